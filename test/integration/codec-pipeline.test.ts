import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp, { type TiffOptions } from 'sharp';
import { colourspaceFor, lowContrastImage, writeMultiPageTiff } from '../support/images.js';
import { oracleDecode, oracleEqualize, type RawImage } from '../support/oracle.js';
import { taskCountCluster } from '../support/task-count-cluster.js';
import { writeOddTiff } from '../support/tiff-file.js';

const cluster = taskCountCluster('codec-pipeline', 5);

interface Case {
  name: string;
  image: RawImage;
  /** Writes the input file. */
  write: (path: string) => Promise<void>;
  mode: 'luma' | 'per-channel';
  page?: number;
  /** The result is a BigTIFF. */
  bigTiff?: boolean;
}

function sharpTiff(image: RawImage, options: TiffOptions) {
  return (path: string) =>
    sharp(image.data, {
      raw: { width: image.width, height: image.height, channels: image.channels },
    })
      .toColourspace(colourspaceFor(image))
      .tiff(options)
      .toFile(path)
      .then(() => undefined);
}

const grey8 = lowContrastImage(613, 411, 1, 8, 1);
const rgb8 = lowContrastImage(333, 250, 3, 8, 2);
const grey16 = lowContrastImage(300, 217, 1, 16, 3);
const rgba8 = lowContrastImage(257, 190, 4, 8, 4);
const bigGrey = lowContrastImage(401, 203, 1, 8, 5);
const pages = [lowContrastImage(120, 90, 1, 8, 6), lowContrastImage(211, 143, 1, 8, 7)];

const CASES: Case[] = [
  {
    name: '8-bit grey, LZW + predictor, strips',
    image: grey8,
    write: sharpTiff(grey8, { compression: 'lzw', predictor: 'horizontal' }),
    mode: 'luma',
  },
  {
    name: '8-bit RGB, deflate, 64×64 tiles (size off the grid), per channel',
    image: rgb8,
    write: sharpTiff(rgb8, {
      compression: 'deflate',
      predictor: 'none',
      tile: true,
      tileWidth: 64,
      tileHeight: 64,
    }),
    mode: 'per-channel',
  },
  {
    name: '16-bit grey, LZW without predictor, tiles',
    image: grey16,
    write: sharpTiff(grey16, {
      compression: 'lzw',
      predictor: 'none',
      tile: true,
      tileWidth: 48,
      tileHeight: 32,
    }),
    mode: 'luma',
  },
  {
    name: '8-bit RGBA, PackBits, strips, per channel',
    image: rgba8,
    write: sharpTiff(rgba8, { compression: 'packbits' }),
    mode: 'per-channel',
  },
  {
    name: 'BigTIFF, deflate strips stored in reverse order',
    image: bigGrey,
    write: (path) =>
      writeOddTiff(bigGrey, path, { bigTiff: true, reversed: true, rowsPerStrip: 16 }),
    mode: 'luma',
    bigTiff: true,
  },
  {
    name: 'page 1 of a multi-page LZW TIFF',
    image: pages[1]!,
    write: (path) => writeMultiPageTiff(pages, path, 'lzw'),
    mode: 'luma',
    page: 1,
  },
];

describe('chunked TIFFs through a 5-pod cluster: tasks decode, encode and assemble', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, { timeout: 120_000 }, async () => {
      const input = join(cluster.dir, `in-${i}.tif`);
      await c.write(input);
      const single = join(cluster.dir, `cli-${i}.tif`);
      const page = String(c.page ?? 0);
      await cluster.equalizeWithCli(input, single, [
        '--mode',
        c.mode,
        '--page',
        page,
        '--tasks',
        '2',
      ]);
      const expected = await readFile(single);
      assert.equal(expected.readUInt16LE(2), c.bigTiff ? 43 : 42);

      // The reference: OpenCV's equalizeHist (8-bit), the README's formulas in NumPy (16-bit).
      const op = c.image.channels === 1 ? 'grey' : 'per-channel';
      const reference = await oracleEqualize(c.image, op);
      const decoded = await oracleDecode(single);
      assert.deepEqual(
        { ...decoded, data: undefined },
        { ...c.image, data: undefined },
        'OpenCV reads the layout back',
      );
      if (c.image.channels === 4) {
        // OpenCV premultiplies unassociated alpha as it reads: compare libvips' reading, which
        // keeps the samples as stored.
        const samples = await sharp(single).toColourspace('srgb').raw().toBuffer();
        assert.deepEqual(new Uint8Array(samples), reference);
      } else {
        assert.deepEqual(decoded.data, reference);
      }

      await cluster.expectSameResultAtTaskCounts(input, { mode: c.mode, page }, expected);
    });
  }
});
