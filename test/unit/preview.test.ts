import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { applyLuts } from '../../src/imaging/equalize.js';
import { computeHistogram } from '../../src/imaging/histogram.js';
import { buildLuts } from '../../src/imaging/lut.js';
import { planPreview } from '../../src/imaging/preview.js';
import { samplesOf, type PixelLayout } from '../../src/imaging/types.js';
import { ImagePool } from '../../src/pool/image-pool.js';
import { bytesOfImage, colourspaceFor, lowContrastImage } from '../support/images.js';

describe('preview plan', () => {
  it('fits the longest side and keeps the aspect ratio', () => {
    const shape = (w: number, h: number) => {
      const p = planPreview({ width: w, height: h, channels: 1, depth: 8 }, 1024).layout;
      return [p.width, p.height];
    };
    assert.deepEqual(shape(8000, 8000), [1024, 1024]);
    assert.deepEqual(shape(3000, 1000), [1024, 341]);
    assert.deepEqual(shape(100, 20000), [5, 1024]);
    assert.deepEqual(shape(10, 3), [10, 3], 'small images are not enlarged');
  });

  it('picks rows and columns inside the image, in order, every pixel of a small one', () => {
    const p = planPreview({ width: 10, height: 3, channels: 3, depth: 16 }, 1024);
    assert.deepEqual(p.columns, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(p.rows, [0, 1, 2]);
    const big = planPreview({ width: 5001, height: 77, channels: 1, depth: 8 }, 1024);
    assert.ok(
      big.columns.every((x, i) => x >= 0 && x < 5001 && (i === 0 || x > big.columns[i - 1])),
    );
  });
});

describe('pool previews', () => {
  let dir: string;
  let pool: ImagePool;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'preview-'));
    pool = ImagePool.create({ threads: 1 });
  });
  after(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const [channels, depth] of [
    [1, 8],
    [3, 16],
  ] as const) {
    it(`the result's preview is the equalized image's own pixels (${channels} ch, ${depth}-bit)`, async () => {
      const width = 1500;
      const height = 700;
      const image = lowContrastImage(width, height, channels, depth, 11);
      const layout: PixelLayout = { width, height, channels, depth };
      const header = 40; // the samples start past some other bytes, like in a TIFF
      const path = join(dir, `raw-${channels}-${depth}`);
      await writeFile(path, Buffer.concat([Buffer.alloc(header, 7), bytesOfImage(image)]));
      const hist = computeHistogram(
        samplesOf(bytesOfImage(image).slice(), layout),
        layout,
        'per-channel',
      );
      const lut = buildLuts(hist, layout, 'per-channel');
      const outPath = join(dir, `out-${channels}-${depth}.png`);
      const source = { path, offset: header, layout };
      const size = await pool.preview({ source, maxSide: 600, mode: 'per-channel', lut, outPath });
      assert.deepEqual(size, { width: 600, height: 280 });

      const equalized = samplesOf(bytesOfImage(image).slice(), layout);
      applyLuts(equalized, layout, 'per-channel', lut);
      assert.equal((await sharp(outPath).metadata()).channels, channels);
      const png = await sharp(outPath)
        .toColourspace(colourspaceFor({ channels, depth: 8 }))
        .raw()
        .toBuffer({ resolveWithObject: true });
      // Independent sampling: the source pixel under each preview pixel's centre.
      for (const [px, py] of [
        [0, 0],
        [599, 279],
        [300, 140],
        [17, 263],
      ]) {
        const sx = Math.floor(((px + 0.5) * width) / 600);
        const sy = Math.floor(((py + 0.5) * height) / 280);
        for (let c = 0; c < channels; c++) {
          const v = equalized[(sy * width + sx) * channels + c];
          const expected = depth === 16 ? v >>> 8 : v;
          assert.equal(png.data[(py * 600 + px) * channels + c], expected, `pixel ${px},${py}`);
        }
      }
    });
  }
});
