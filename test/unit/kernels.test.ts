import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyLuts } from '../../src/imaging/equalize.js';
import { computeHistogram } from '../../src/imaging/histogram.js';
import type { PixelLayout, Samples } from '../../src/imaging/types.js';
import { KERNELS_WASM_BASE64 } from '../../src/imaging/wasm/kernels-binary.js';
import { addGreyHistogram, CHUNK_BYTES, mapGrey } from '../../src/imaging/wasm/kernels.js';
import { rng } from '../support/images.js';

type Depth = 8 | 16;
type Channels = 1 | 2;

/** Independent scalar references: one sample at a time, no words, no tables, no chunks. */
function referenceHistogram(samples: Samples, channels: Channels, bins: number): Uint32Array {
  const hist = new Uint32Array(bins);
  for (let i = 0; i < samples.length; i += channels) hist[samples[i]]++;
  return hist;
}

function referenceMap(samples: Samples, channels: Channels, lut: Samples): Samples {
  const out = samples.slice();
  for (let i = 0; i < out.length; i += channels) out[i] = lut[out[i]];
  return out;
}

/**
 * `length` random samples (0 and the maximum included) inside a larger array, starting one
 * element in (an odd byte offset for bytes, not 4-aligned for 16-bit), with guard samples
 * around it that the kernels must leave alone. A stretch of equal values covers long runs.
 */
function samplesAt(depth: Depth, length: number, offset: number, seed: number) {
  const random = rng(seed);
  const max = depth === 8 ? 255 : 65535;
  const whole = depth === 8 ? new Uint8Array(length + offset + 3) : new Uint16Array(length + 4);
  for (let i = 0; i < whole.length; i++) whole[i] = Math.floor(random() * (max + 1));
  const samples = whole.subarray(offset, offset + length);
  if (length > 0) samples[0] = 0;
  if (length > 1) samples[length - 1] = max;
  if (length > 2) samples[length >> 1] = max;
  samples.fill(7, length >> 2, (length >> 2) + Math.min(1000, length >> 3));
  return { whole, samples };
}

function randomLut(depth: Depth, seed: number): Samples {
  const random = rng(seed);
  const max = depth === 8 ? 255 : 65535;
  const lut = depth === 8 ? new Uint8Array(256) : new Uint16Array(65536);
  for (let v = 0; v < lut.length; v++) lut[v] = Math.floor(random() * (max + 1));
  lut[0] = max;
  lut[max] = 0;
  return lut;
}

/** Awkward lengths in samples: tiny, around one chunk, several chunks plus a tail. */
function lengthsFor(depth: Depth): number[] {
  const chunk = CHUNK_BYTES / (depth / 8);
  return [0, 1, 2, 3, 4, 5, 7, 9, chunk - 1, chunk, chunk + 1, 3 * chunk + 5];
}

const cases: { depth: Depth; channels: Channels }[] = [
  { depth: 8, channels: 1 },
  { depth: 8, channels: 2 },
  { depth: 16, channels: 1 },
  { depth: 16, channels: 2 },
];

describe('WebAssembly kernels', () => {
  it('the committed kernels-binary.ts is a fresh compile of kernels.wat (npm run build:wasm)', async () => {
    const script = new URL('../../../scripts/build-wasm.mjs', import.meta.url).href;
    const { compileKernels } = (await import(script)) as {
      compileKernels: () => Promise<Uint8Array>;
    };
    const committed = Uint8Array.from(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
    assert.deepEqual(committed, await compileKernels());
  });

  for (const { depth, channels } of cases) {
    const bins = depth === 8 ? 256 : 65536;
    const name = `${depth}-bit ${channels === 1 ? 'grey' : 'grey+alpha'}`;

    it(`${name}: histogram equals a scalar count for awkward lengths and offsets`, () => {
      let seed = depth * 10 + channels;
      for (const length of lengthsFor(depth)) {
        for (const offset of [0, 1]) {
          const { samples } = samplesAt(depth, length, offset, seed++);
          const expected = referenceHistogram(samples, channels, bins);
          // The wrapper adds to what is there.
          const hist = new Uint32Array(bins).fill(3);
          addGreyHistogram(samples, channels, hist);
          const label = `length ${length}, offset ${offset}`;
          assert.deepEqual(
            hist,
            expected.map((c) => c + 3),
            label,
          );
        }
      }
    });

    it(`${name}: LUT equals a scalar map and leaves neighbouring samples alone`, () => {
      let seed = 1000 + depth * 10 + channels;
      for (const length of lengthsFor(depth)) {
        for (const offset of [0, 1]) {
          const { whole, samples } = samplesAt(depth, length, offset, seed++);
          const lut = randomLut(depth, seed++);
          const expectedWhole = whole.slice();
          expectedWhole.set(referenceMap(samples, channels, lut), offset);
          mapGrey(samples, channels, lut);
          assert.deepEqual(whole, expectedWhole, `length ${length}, offset ${offset}`);
        }
      }
    });

    it(`${name}: computeHistogram and applyLuts give the scalar results`, () => {
      const layout: PixelLayout = { width: 1001, height: 3, channels, depth };
      const { samples } = samplesAt(depth, 1001 * 3 * channels, 1, 77);
      assert.deepEqual(
        computeHistogram(samples, layout, 'luma'),
        referenceHistogram(samples, channels, bins),
      );
      const lut = randomLut(depth, 78);
      const expected = referenceMap(samples, channels, lut);
      applyLuts(samples, layout, 'per-channel', lut);
      assert.deepEqual(samples, expected);
    });
  }

  it('8-bit: a changed LUT or alpha flag rebuilds the cached pair table', () => {
    const first = randomLut(8, 1);
    const second = first.slice();
    second[100] = first[100] ^ 1;
    const { samples } = samplesAt(8, 4096, 0, 3);
    for (const [lut, channels] of [
      [first, 1],
      [second, 1],
      [second, 2],
      [second, 1],
      [first, 1],
    ] as const) {
      const input = samples.slice();
      const expected = referenceMap(input, channels, lut);
      mapGrey(input, channels, lut);
      assert.deepEqual(input, expected);
    }
  });
});
