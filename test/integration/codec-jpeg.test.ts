import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp, { type TiffOptions } from 'sharp';
import { readTiffIfd } from '../../src/imaging/tiff-ifd.js';
import { colourspaceFor, lowContrastImage } from '../support/images.js';
import { writeFullStreamTiles } from '../support/jpeg-tiff.js';
import { oracleDecode, oracleEqualize, type RawImage } from '../support/oracle.js';
import { taskCountCluster } from '../support/task-count-cluster.js';

const cluster = taskCountCluster('codec-jpeg', 5);

/**
 * The result is the LUT applied to the decoded input, then JPEG-encoded at quality 95: against
 * OpenCV's equalization of OpenCV's own decode of the input, the difference is the new JPEG's
 * loss plus the two decoders' rounding, measured as mean absolute error and PSNR. The images are
 * stretched noise, JPEG's worst case: 4:2:0 colour equalized per channel loses the most.
 */
const MAX_MEAN_ABS_ERROR = 4;
const MIN_PSNR_DB = 32;

interface Case {
  name: string;
  image: RawImage;
  /** libvips writes the input like this, or: */
  tiff?: TiffOptions;
  /** Writes the input. */
  write?: (path: string, image: RawImage) => Promise<unknown>;
  mode: 'luma' | 'per-channel';
}

const CASES: Case[] = [
  {
    name: 'grey, 64×48 tiles, size off the grid',
    image: lowContrastImage(613, 411, 1, 8, 11),
    tiff: { compression: 'jpeg', quality: 75, tile: true, tileWidth: 64, tileHeight: 48 },
    mode: 'luma',
  },
  {
    name: 'RGB (YCbCr 4:2:0), 48×32 tiles, per channel',
    image: lowContrastImage(333, 250, 3, 8, 12),
    tiff: { compression: 'jpeg', quality: 75, tile: true, tileWidth: 48, tileHeight: 32 },
    mode: 'per-channel',
  },
  {
    name: 'grey strips, the last one short',
    image: lowContrastImage(300, 600, 1, 8, 13),
    tiff: { compression: 'jpeg', quality: 80 },
    mode: 'luma',
  },
  {
    name: 'RGB (YCbCr 4:2:0) strips, luma',
    image: lowContrastImage(257, 530, 3, 8, 14),
    tiff: { compression: 'jpeg', quality: 70 },
    mode: 'luma',
  },
  {
    name: 'RGB (YCbCr 4:4:4) tiles of complete streams, no JPEGTables, luma',
    image: lowContrastImage(200, 150, 3, 8, 15),
    write: (path, image) => writeFullStreamTiles(path, image, 64),
    mode: 'luma',
  },
];

function tagsOf(ifd: NonNullable<Awaited<ReturnType<typeof readTiffIfd>>>) {
  const one = (tag: number) => ifd.fields.get(tag)?.[0];
  return {
    compression: one(259),
    photometric: one(262),
    tiled: ifd.fields.has(322),
    chunkWidth: one(322),
    chunkHeight: one(323) ?? one(278),
  };
}

function errorOf(got: RawImage['data'], want: RawImage['data']) {
  let abs = 0;
  let squares = 0;
  for (let i = 0; i < want.length; i++) {
    const d = got[i]! - want[i]!;
    abs += Math.abs(d);
    squares += d * d;
  }
  const mse = squares / want.length;
  return { meanAbs: abs / want.length, psnr: 10 * Math.log10((255 * 255) / Math.max(mse, 1e-9)) };
}

describe('JPEG-compressed TIFFs through a 5-pod cluster: tasks decode and encode with libjpeg', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, { timeout: 120_000 }, async (t) => {
      const input = join(cluster.dir, `in-${i}.tif`);
      if (c.write) await c.write(input, c.image);
      else
        await sharp(c.image.data, {
          raw: { width: c.image.width, height: c.image.height, channels: c.image.channels },
        })
          .toColourspace(colourspaceFor(c.image))
          .tiff(c.tiff)
          .toFile(input);
      const inIfd = (await readTiffIfd(input, 0))!;
      const single = join(cluster.dir, `cli-${i}.tif`);
      const printed = await cluster.equalizeWithCli(input, single, [
        '--mode',
        c.mode,
        '--tasks',
        '2',
      ]);
      assert.match(printed, /equalized/);
      const expected = await readFile(single);

      const outIfd = (await readTiffIfd(single, 0))!;
      assert.deepEqual(tagsOf(outIfd), tagsOf(inIfd), 'compression, colour and geometry kept');
      assert.equal(outIfd.blobs.has(347), false, 'complete streams: no JPEGTables');
      if (c.image.channels === 3) {
        assert.deepEqual(outIfd.fields.get(530), inIfd.fields.get(530) ?? [2, 2]);
        assert.equal(inIfd.fields.get(262)?.[0], 6, 'the input is YCbCr');
      }
      if (!tagsOf(inIfd).tiled) {
        const strips = inIfd.fields.get(273)!.length;
        assert.ok(strips > 1, 'several strips');
        assert.equal(outIfd.fields.get(273)!.length, strips);
      }

      // Independent: OpenCV (libtiff) decodes input and result; OpenCV equalizes its decode.
      const decodedInput = await oracleDecode(input);
      const op = c.image.channels === 1 ? 'grey' : c.mode;
      const reference = await oracleEqualize(decodedInput, op);
      const decoded = await oracleDecode(single);
      assert.deepEqual(
        { ...decoded, data: undefined },
        { ...c.image, data: undefined },
        'OpenCV reads the layout back',
      );
      const error = errorOf(decoded.data, reference);
      t.diagnostic(`against LUT(OpenCV's decode): ${JSON.stringify(error)}`);
      assert.ok(
        error.meanAbs <= MAX_MEAN_ABS_ERROR && error.psnr >= MIN_PSNR_DB,
        `within JPEG's loss of LUT(decoded input): ${JSON.stringify(error)}`,
      );

      await cluster.expectSameResultAtTaskCounts(input, { mode: c.mode }, expected);
    });
  }
});
