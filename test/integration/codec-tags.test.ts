import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp, { type TiffOptions } from 'sharp';
import { readTiffIfd } from '../../src/imaging/tiff-ifd.js';
import { codecPageOf } from '../../src/imaging/tiff-codec/page.js';
import { colourspaceFor, lowContrastImage } from '../support/images.js';
import { oracleDecode, oracleEqualize, type RawImage } from '../support/oracle.js';
import { CLI } from '../support/paths.js';
import { writeOddTiff } from '../support/tiff-file.js';

const exec = promisify(execFile);
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'codec-tags-'));
});
after(() => rm(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  image: RawImage;
  tiff: TiffOptions;
  /** One of sharp's bundled profiles, embedded in the input. */
  icc: string;
}

const CASES: Case[] = [
  {
    name: '8-bit RGB, LZW strips, Display P3 profile, 300 dpi',
    image: lowContrastImage(301, 157, 3, 8, 21),
    tiff: { compression: 'lzw', predictor: 'horizontal', xres: 300 / 25.4, yres: 300 / 25.4 },
    icc: 'p3',
  },
  {
    name: '16-bit RGB, deflate 32×32 tiles, sRGB profile, 72×144 px/cm',
    image: lowContrastImage(97, 70, 3, 16, 22),
    tiff: {
      compression: 'deflate',
      tile: true,
      tileWidth: 32,
      tileHeight: 32,
      xres: 72,
      yres: 144,
      resolutionUnit: 'cm',
    },
    icc: 'srgb',
  },
];

/** The tags a reader of the result cares about, from our directory reader. */
async function tagsOf(path: string) {
  const ifd = (await readTiffIfd(path, 0))!;
  const tag = (t: number) => ifd.fields.get(t);
  return {
    photometric: tag(262),
    sampleFormat: tag(339) ?? [1],
    bitsPerSample: tag(258),
    xResolution: tag(282),
    yResolution: tag(283),
    resolutionUnit: tag(296),
    icc: ifd.blobs.get(34675),
  };
}

describe('the codec path keeps the page tags', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, { timeout: 60_000 }, async () => {
      const input = join(dir, `in-${i}.tif`);
      const output = join(dir, `out-${i}.tif`);
      await sharp(c.image.data, {
        raw: { width: c.image.width, height: c.image.height, channels: c.image.channels },
      })
        .toColourspace(colourspaceFor(c.image))
        .withIccProfile(c.icc)
        .tiff(c.tiff)
        .toFile(input);
      const ifd = await readTiffIfd(input, 0);
      assert.ok(ifd && codecPageOf(ifd), 'the input is one the tasks decode and encode');
      await exec('node', [CLI, 'equalize', input, output, '--tasks', '3']);

      const want = await tagsOf(input);
      const got = await tagsOf(output);
      assert.ok(want.icc && want.icc.length > 100, 'the input carries a profile');
      assert.ok(got.icc && Buffer.from(got.icc).equals(Buffer.from(want.icc)), 'ICC byte for byte');
      assert.deepEqual({ ...got, icc: undefined }, { ...want, icc: undefined });

      // libvips, an independent reader, sees the same profile and resolution.
      const [inMeta, outMeta] = await Promise.all([
        sharp(input).metadata(),
        sharp(output).metadata(),
      ]);
      assert.ok(outMeta.icc?.equals(inMeta.icc!), 'libvips reads the same profile');
      assert.equal(outMeta.density, inMeta.density);
      assert.equal(outMeta.resolutionUnit, inMeta.resolutionUnit);
      assert.equal(outMeta.depth, inMeta.depth);
      assert.equal(outMeta.space, inMeta.space);
    });
  }
});

describe('zstd', () => {
  it('a zstd TIFF (this libvips build has no zstd codec) is refused with a sentence, not read as zeros', async () => {
    const input = join(dir, 'zstd.tif');
    // OpenCV's libtiff writes zstd; the sharp build cannot.
    const write = [
      'import cv2, numpy as np, sys',
      'img = (np.arange(90 * 131) % 97).astype(np.uint8).reshape(90, 131)',
      'assert cv2.imwrite(sys.argv[1], img, [cv2.IMWRITE_TIFF_COMPRESSION, 50000])',
    ].join('\n');
    await exec('/usr/bin/python3', ['-c', write, input]);
    assert.equal((await readTiffIfd(input, 0))!.fields.get(259)?.[0], 50000);
    await assert.rejects(
      exec('node', [CLI, 'equalize', input, join(dir, 'zstd-out.tif')]),
      (err: { stderr: string }) =>
        /zstd-compressed TIFFs cannot be read.*LZW or deflate/.test(err.stderr),
    );
  });
});

describe('deflate level', () => {
  it('a deflate page is written back at the level class its zlib streams name (1, 6, 9)', async () => {
    const image = lowContrastImage(240, 130, 1, 8, 23);
    const flevel = async (path: string) => {
      const ifd = (await readTiffIfd(path, 0))!;
      const bytes = await readFile(path);
      const firsts = ifd.fields.get(273)!.map((offset) => bytes[offset + 1]! >> 6);
      assert.equal(new Set(firsts).size, 1, 'every strip names the same class');
      return firsts[0];
    };
    const reference = await oracleEqualize(image, 'grey');
    for (const level of [1, 6, 9]) {
      const input = join(dir, `level-${level}.tif`);
      const output = join(dir, `level-${level}-out.tif`);
      await writeOddTiff(image, input, {
        bigTiff: false,
        reversed: false,
        rowsPerStrip: 16,
        level,
      });
      await exec('node', [CLI, 'equalize', input, output, '--tasks', '3']);
      assert.equal(await flevel(output), await flevel(input), `level ${level}`);
      assert.deepEqual((await oracleDecode(output)).data, reference);
    }
  });
});
