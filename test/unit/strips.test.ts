import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyLuts } from '../../src/imaging/equalize.js';
import { computeHistogram, sumHistograms } from '../../src/imaging/histogram.js';
import { buildLuts } from '../../src/imaging/lut.js';
import { planStrips, stripByteRange, stripOffsets } from '../../src/imaging/strips.js';
import { bytesOf, samplesOf, type ColourMode, type PixelLayout } from '../../src/imaging/types.js';
import { bytesOfImage, lowContrastImage, rng } from '../support/images.js';

describe('planStrips', () => {
  it('tiles the rows exactly, near-equal heights, never empty', () => {
    for (const [height, tasks] of [
      [1, 1],
      [1, 5],
      [7, 3],
      [10, 10],
      [10, 17],
      [1000, 7],
    ]) {
      const strips = planStrips(height, tasks);
      assert.equal(strips.length, Math.min(height, tasks));
      assert.equal(
        strips.reduce((n, s) => n + s.rows, 0),
        height,
      );
      strips.forEach((s, i) => {
        assert.equal(s.index, i);
        assert.equal(s.top, i === 0 ? 0 : strips[i - 1].top + strips[i - 1].rows);
        assert.ok(s.rows >= 1);
      });
      const rows = strips.map((s) => s.rows);
      assert.ok(Math.max(...rows) - Math.min(...rows) <= 1);
    }
  });

  it('refuses nonsense', () => {
    assert.throws(() => planStrips(0, 1), RangeError);
    assert.throws(() => planStrips(5, 0), RangeError);
    assert.throws(() => planStrips(5, 1.5), RangeError);
  });
});

/** The distributed computation at kernel level: per-strip histograms, one LUT, per-strip apply. */
function equalizeInStrips(bytes: Uint8Array, layout: PixelLayout, mode: ColourMode, tasks: number) {
  const strips = planStrips(layout.height, tasks).map((strip) => {
    const { offset, length } = stripByteRange(layout, strip);
    return {
      layout: { ...layout, height: strip.rows },
      bytes: bytes.slice(offset, offset + length),
    };
  });
  const hists = strips.map((s) => computeHistogram(samplesOf(s.bytes, s.layout), s.layout, mode));
  const luts = buildLuts(sumHistograms(hists), layout, mode);
  for (const s of strips) applyLuts(samplesOf(s.bytes, s.layout), s.layout, mode, luts);
  const out = new Uint8Array(bytes.byteLength);
  const offsets = stripOffsets(
    layout,
    strips.map((s) => s.bytes.byteLength),
  );
  strips.forEach((s, i) => out.set(s.bytes, offsets[i]));
  return out;
}

describe('split/merge property', () => {
  it('any task count 1–17 gives the whole-image result byte for byte', () => {
    const random = rng(2024);
    for (let trial = 0; trial < 24; trial++) {
      const channels = ([1, 2, 3, 4] as const)[trial % 4];
      const depth = trial % 3 === 0 ? 16 : 8;
      const width = 1 + Math.floor(random() * 90);
      const height = 1 + Math.floor(random() * 60);
      const image = lowContrastImage(width, height, channels, depth, trial);
      const layout: PixelLayout = { width, height, channels, depth };
      const mode: ColourMode = trial % 2 === 0 ? 'luma' : 'per-channel';
      const whole = bytesOfImage(image).slice();
      const samples = samplesOf(whole, layout);
      applyLuts(
        samples,
        layout,
        mode,
        buildLuts(computeHistogram(samples, layout, mode), layout, mode),
      );
      for (let tasks = 1; tasks <= 17; tasks++) {
        const split = equalizeInStrips(bytesOfImage(image), layout, mode, tasks);
        assert.deepEqual(
          split,
          bytesOf(samples),
          `trial ${trial} (${width}×${height}×${channels}, ${depth}-bit, ${mode}) tasks ${tasks}`,
        );
      }
    }
  });

  it('stripOffsets refuses strips that do not tile the image', () => {
    const layout: PixelLayout = { width: 2, height: 2, channels: 1, depth: 8 };
    assert.deepEqual(stripOffsets(layout, [2, 2]), [0, 2]);
    assert.throws(() => stripOffsets(layout, [2]), /cover/);
    assert.throws(() => stripOffsets(layout, [3]), /tile/);
    assert.throws(() => stripOffsets(layout, [2, 2, 2]), /tile/);
  });
});
