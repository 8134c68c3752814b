import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeImage } from '../../src/imaging/codec.js';
import { probeImage } from '../../src/imaging/probe.js';
import { tiffContainerHeader } from '../../src/imaging/raw-tiff.js';
import { bytesOfImage, colourspaceFor, lowContrastImage, writeImage } from '../support/images.js';
import type { RawImage } from '../support/oracle.js';
import { useTempDir } from '../support/paths.js';

const MAX = 268_402_689;
const tempDir = useTempDir('truncation-');

/** What the master does before any task exists: the header, then (unless raw) one decode. */
async function admit(path: string): Promise<void> {
  const info = await probeImage(path, { maxPixels: MAX });
  if (info.rawOffset === undefined) await decodeImage(path, info);
}

/** An image written by sharp with options the test helper does not offer (BigTIFF, JPEG). */
async function writeWithSharp(
  image: RawImage,
  path: string,
  tiff: { compression: 'none' | 'lzw' | 'jpeg'; bigtiff?: boolean },
): Promise<void> {
  const { default: sharp } = await import('sharp');
  await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels },
  })
    .toColourspace(colourspaceFor(image))
    .tiff(tiff)
    .toFile(path);
}

const grey8 = lowContrastImage(300, 200, 1, 8, 11);
const grey16 = lowContrastImage(300, 200, 1, 16, 12);
const rgb8 = lowContrastImage(240, 160, 3, 8, 13);

const kinds: {
  name: string;
  format: 'TIFF' | 'PNG' | 'JPEG';
  write: (p: string) => Promise<void>;
}[] = [
  { name: 'uncompressed TIFF', format: 'TIFF', write: (p) => writeImage(grey8, p, 'tiff') },
  {
    name: 'LZW TIFF',
    format: 'TIFF',
    write: (p) => writeImage(grey8, p, 'tiff', { compression: 'lzw' }),
  },
  {
    name: 'deflate 16-bit TIFF',
    format: 'TIFF',
    write: (p) => writeImage(grey16, p, 'tiff', { compression: 'deflate' }),
  },
  {
    name: 'tiled LZW RGB TIFF',
    format: 'TIFF',
    write: (p) => writeImage(rgb8, p, 'tiff', { compression: 'lzw', tile: true }),
  },
  {
    name: 'JPEG-compressed TIFF',
    format: 'TIFF',
    write: (p) => writeWithSharp(rgb8, p, { compression: 'jpeg' }),
  },
  {
    name: 'uncompressed BigTIFF',
    format: 'TIFF',
    write: (p) => writeWithSharp(grey8, p, { compression: 'none', bigtiff: true }),
  },
  {
    name: 'LZW BigTIFF',
    format: 'TIFF',
    write: (p) => writeWithSharp(grey8, p, { compression: 'lzw', bigtiff: true }),
  },
  {
    // The directory comes first here, so a cut leaves it readable and the pixels short.
    name: 'TIFF with its directory first',
    format: 'TIFF',
    write: async (p) => {
      const { header, pixelOffset } = tiffContainerHeader(grey8);
      const file = Buffer.alloc(pixelOffset + grey8.data.byteLength);
      file.set(header, 0);
      file.set(bytesOfImage(grey8), pixelOffset);
      await writeFile(p, file);
    },
  },
  { name: 'grey PNG', format: 'PNG', write: (p) => writeImage(grey8, p, 'png') },
  { name: '16-bit PNG', format: 'PNG', write: (p) => writeImage(grey16, p, 'png') },
  { name: 'RGB JPEG', format: 'JPEG', write: (p) => writeImage(rgb8, p, 'jpeg') },
];

describe('a truncated file is refused with a sentence that says so', () => {
  for (const kind of kinds) {
    it(`${kind.name}: whole it is accepted, cut anywhere it is "truncated"`, async () => {
      const whole = join(tempDir(), `${kind.name.replace(/\W+/g, '-')}.whole`);
      await kind.write(whole);
      await admit(whole);
      const bytes = await readFile(whole);
      // Early, middle and late cuts, and the last few bytes (a PNG's IEND, a JPEG's EOI).
      const lengths = [0.05, 0.5, 0.95].map((f) => Math.floor(bytes.length * f));
      lengths.push(bytes.length - 12, bytes.length - 2, bytes.length - 1);
      for (const length of lengths) {
        const cut = `${whole}.${length}`;
        await writeFile(cut, bytes.subarray(0, length));
        await assert.rejects(
          admit(cut),
          (err: Error & { code?: string }) => {
            assert.equal(err.code, 'BAD_INPUT', `${length} of ${bytes.length}: ${err.message}`);
            assert.match(
              err.message,
              new RegExp(`^The ${kind.format} file is truncated: [^\\n]+\\.$`),
              `${length} of ${bytes.length} bytes`,
            );
            assert.doesNotMatch(err.message, /unsupported image format|libpng|Vips/i);
            return true;
          },
          `${kind.name} cut to ${length} of ${bytes.length} bytes was accepted`,
        );
      }
    });
  }

  it('a PNG with bytes after its IEND chunk is complete, not truncated', async () => {
    const path = join(tempDir(), 'trailing.png');
    await writeImage(grey8, path, 'png');
    await writeFile(path, Buffer.concat([await readFile(path), Buffer.from('trailing bytes')]));
    await admit(path);
  });
});
