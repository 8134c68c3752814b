import assert from 'node:assert/strict';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { decodeImage } from '../../src/imaging/codec.js';
import { probeImage } from '../../src/imaging/probe.js';
import {
  createTiffContainer,
  rawPixelsOf,
  tiffContainerHeader,
} from '../../src/imaging/raw-tiff.js';
import type { TiffIfd } from '../../src/imaging/tiff-ifd.js';
import { imageBytes, type PixelLayout } from '../../src/imaging/types.js';
import {
  bytesOfImage,
  colourspaceFor,
  lowContrastImage,
  writeImage,
  writeMultiPageTiff,
} from '../support/images.js';
import { useTempDir } from '../support/paths.js';

const MAX = 268_402_689;
const tempDir = useTempDir('raw-tiff-');

/** The bytes of the file where the probe says the pixels are. */
async function bytesAt(path: string, offset: number, layout: PixelLayout): Promise<Uint8Array> {
  const file = await readFile(path);
  return new Uint8Array(file.subarray(offset, offset + imageBytes(layout)));
}

describe('raw TIFF pixels are found where libvips decodes them from', () => {
  for (const depth of [8, 16] as const) {
    for (const channels of [1, 3] as const) {
      it(`uncompressed ${depth}-bit ${channels === 1 ? 'grey' : 'RGB'}`, async () => {
        const image = lowContrastImage(41, 23, channels, depth, depth + channels);
        const path = join(tempDir(), `raw-${depth}-${channels}.tif`);
        await writeImage(image, path, 'tiff', { compression: 'none' });
        const info = await probeImage(path, { maxPixels: MAX });
        assert.ok(info.rawOffset !== undefined, 'found in place');
        const meta = await sharp(path).metadata();
        assert.deepEqual(info.layout, { width: meta.width, height: meta.height, channels, depth });
        assert.deepEqual(await bytesAt(path, info.rawOffset, info.layout), bytesOfImage(image));
        assert.deepEqual(await decodeImage(path, info), bytesOfImage(image));
      });
    }
  }

  it('on the requested page of a multi-page TIFF', async () => {
    // Frames joined by libvips share one size.
    const pages = [1, 2, 3].map((s) => lowContrastImage(19, 11, 1, 8, s));
    const path = join(tempDir(), 'pages.tif');
    await writeMultiPageTiff(pages, path, 'none');
    for (const page of [0, 2]) {
      const info = await probeImage(path, { page, maxPixels: MAX });
      assert.equal(info.pages, 3);
      assert.ok(info.rawOffset !== undefined);
      assert.deepEqual(await bytesAt(path, info.rawOffset, info.layout), bytesOfImage(pages[page]));
    }
  });

  const decoded: [string, (path: string) => Promise<void>][] = [
    ['LZW', (p) => writeImage(lowContrastImage(9, 7, 1, 8, 1), p, 'tiff', { compression: 'lzw' })],
    ['tiled', (p) => writeImage(lowContrastImage(9, 7, 1, 8, 1), p, 'tiff', { tile: true })],
    ['with alpha', (p) => writeImage(lowContrastImage(9, 7, 4, 8, 1), p, 'tiff')],
  ];
  for (const [name, write] of decoded) {
    it(`not for ${name} pages, which libvips decodes`, async () => {
      const path = join(tempDir(), `decoded-${name}.tif`);
      await write(path);
      assert.equal((await probeImage(path, { maxPixels: MAX })).rawOffset, undefined);
    });
  }

  it('a file that ends before its pixels do is refused as truncated from the header', async () => {
    const image = lowContrastImage(64, 64, 1, 8, 5);
    const path = join(tempDir(), 'cut.tif');
    // The container puts the IFD first, so cutting the end leaves a readable header.
    await writeFile(path, tiffContainerHeader(image).header);
    await assert.rejects(probeImage(path, { maxPixels: MAX }), {
      code: 'BAD_INPUT',
      message: /truncated: its image data ends at byte 4,\d{3} but the file has \d+ bytes/,
    });
  });

  it('not for 16-bit samples in the other byte order, nor signed ones', () => {
    const fields = (extra: [number, number[]][]) =>
      new Map<number, number[]>([
        [256, [4]],
        [257, [2]],
        [258, [16]],
        [262, [1]],
        [273, [8]],
        [279, [16]],
        ...extra,
      ]);
    const ifd = (littleEndian: boolean, extra: [number, number[]][] = []): TiffIfd => ({
      littleEndian,
      bigTiff: false,
      pages: 1,
      fields: fields(extra),
      types: new Map(),
      blobs: new Map(),
    });
    assert.deepEqual(rawPixelsOf(ifd(true), 24), {
      layout: { width: 4, height: 2, channels: 1, depth: 16 },
      offset: 8,
    });
    assert.equal(rawPixelsOf(ifd(false), 24), null);
    assert.equal(rawPixelsOf(ifd(true, [[339, [2]]]), 24), null);
    assert.equal(rawPixelsOf(ifd(true), 23), null, 'pixels past the end of the file');
    assert.equal(
      rawPixelsOf(
        ifd(true, [
          [273, [8, 100]],
          [279, [8, 8]],
        ]),
        200,
      ),
      null,
      'a gap',
    );
  });
});

describe('the result container', () => {
  const shapes: [string, PixelLayout][] = [
    ['1×1 grey 8-bit', { width: 1, height: 1, channels: 1, depth: 8 }],
    ['37×29 RGB 8-bit', { width: 37, height: 29, channels: 3, depth: 8 }],
    ['5000×230 grey 16-bit, several strips', { width: 5000, height: 230, channels: 1, depth: 16 }],
    ['70×9 RGB 16-bit', { width: 70, height: 9, channels: 3, depth: 16 }],
  ];
  for (const [name, layout] of shapes) {
    it(`decodes in libvips to the pixels written into it: ${name}`, async () => {
      const image = lowContrastImage(layout.width, layout.height, layout.channels, layout.depth, 7);
      const path = join(tempDir(), `container-${name.replace(/\W+/g, '_')}.tif`);
      const offset = await createTiffContainer(path, layout);
      const file = await readFile(path);
      assert.equal(file.byteLength, offset + imageBytes(layout));
      file.set(bytesOfImage(image), offset);
      await writeFile(path, file);
      const { data, info } = await sharp(path)
        .toColourspace(colourspaceFor(layout))
        .raw({ depth: layout.depth === 16 ? 'ushort' : 'uchar' })
        .toBuffer({ resolveWithObject: true });
      assert.deepEqual(
        [info.width, info.height, info.channels],
        [layout.width, layout.height, layout.channels],
      );
      assert.deepEqual(new Uint8Array(data), bytesOfImage(image));
      // And it is itself a raw TIFF: a result can be equalized again in place.
      const probed = await probeImage(path, { maxPixels: MAX });
      assert.deepEqual([probed.rawOffset, probed.layout], [offset, layout]);
    });
  }

  it('re-creating it keeps strips already written (a resumed or deposed master)', async () => {
    const layout: PixelLayout = { width: 16, height: 4, channels: 1, depth: 8 };
    const path = join(tempDir(), 'again.tif');
    const offset = await createTiffContainer(path, layout);
    const file = await readFile(path);
    file.fill(200, offset);
    await writeFile(path, file);
    assert.equal(await createTiffContainer(path, layout), offset);
    assert.deepEqual(await readFile(path), file);
    await truncate(path, offset + 10);
    await createTiffContainer(path, layout);
    assert.equal((await readFile(path)).byteLength, offset + imageBytes(layout));
  });
});
