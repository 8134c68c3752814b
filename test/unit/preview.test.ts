import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { applyLuts } from '../../src/imaging/equalize.js';
import { computeHistogram } from '../../src/imaging/histogram.js';
import { buildLuts } from '../../src/imaging/lut.js';
import { planPreview } from '../../src/imaging/preview.js';
import { samplesOf, type PixelLayout } from '../../src/imaging/types.js';
import { previewName, writePreviews } from '../../src/jobs/master/job-previews.js';
import { sharedLayout } from '../../src/jobs/paths.js';
import { ImagePool } from '../../src/pool/image-pool.js';
import { captureLogger } from '../support/capture-logger.js';
import { useTempDir } from '../support/paths.js';
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

describe('job previews', () => {
  const tempDir = useTempDir('preview-');
  const pool = ImagePool.create({ threads: 1 });
  after(() => pool.close());

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
      const path = join(tempDir(), `raw-${channels}-${depth}`);
      await writeFile(path, Buffer.concat([Buffer.alloc(header, 7), bytesOfImage(image)]));
      const hist = computeHistogram(
        samplesOf(bytesOfImage(image).slice(), layout),
        layout,
        'per-channel',
      );
      const lut = buildLuts(hist, layout, 'per-channel');
      const shared = sharedLayout(tempDir());
      const id = `job-${channels}-${depth}`;
      const source = { path, offset: header, layout };
      const { logger, events } = captureLogger();
      await writePreviews(shared, pool, { id, mode: 'per-channel', source, lut }, logger);
      assert.deepEqual(
        events().filter((e) => Number(e.level) >= 40),
        [],
        'no warning',
      );
      const outPath = join(shared.results, previewName(id, 'out'));
      const inPath = join(shared.results, previewName(id, 'in'));
      for (const p of [inPath, outPath]) {
        const meta = await sharp(p).metadata();
        assert.deepEqual([meta.width, meta.height, meta.channels], [1024, 478, channels]);
      }

      const equalized = samplesOf(bytesOfImage(image).slice(), layout);
      applyLuts(equalized, layout, 'per-channel', lut);
      const decode = async (p: string) =>
        (
          await sharp(p)
            .toColourspace(colourspaceFor({ channels, depth: 8 }))
            .raw()
            .toBuffer()
        ).subarray(0);
      const previews = { in: await decode(inPath), out: await decode(outPath) };
      // Independent sampling: the source pixel under each preview pixel's centre.
      for (const [px, py] of [
        [0, 0],
        [1023, 477],
        [300, 140],
        [17, 463],
      ]) {
        const sx = Math.floor(((px + 0.5) * width) / 1024);
        const sy = Math.floor(((py + 0.5) * height) / 478);
        for (let c = 0; c < channels; c++) {
          const at = (sy * width + sx) * channels + c;
          const eight = (v: number) => (depth === 16 ? v >>> 8 : v);
          const where = `pixel ${px},${py} channel ${c}`;
          const i = (py * 1024 + px) * channels + c;
          assert.equal(previews.in[i], eight(image.data[at]), `input ${where}`);
          assert.equal(previews.out[i], eight(equalized[at]), `result ${where}`);
        }
      }
    });
  }
});
