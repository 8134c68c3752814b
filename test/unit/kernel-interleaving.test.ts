import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyLuts } from '../../src/imaging/equalize.js';
import { computeHistogram } from '../../src/imaging/histogram.js';
import type { ColourMode, PixelLayout, Samples } from '../../src/imaging/types.js';
import { rng } from '../support/images.js';

/**
 * The kernels keep per-thread state (one WebAssembly memory whose table region holds either the
 * 8-bit pair table or a 16-bit LUT, and a cached 8-bit LUT). These tests interleave every kind of
 * call on this one thread, in every order and at random, and compare each result with scalar
 * references written here from the documented formulas, so a stale table cannot hide.
 */

interface Kind {
  name: string;
  layout: PixelLayout;
  mode: ColourMode;
}

const WIDTH = 257;
const ROWS = 5;

const KINDS: Kind[] = [
  { name: '8-bit grey', layout: layout(1, 8), mode: 'luma' },
  { name: '8-bit grey+alpha', layout: layout(2, 8), mode: 'luma' },
  { name: '16-bit grey', layout: layout(1, 16), mode: 'luma' },
  { name: '16-bit grey+alpha', layout: layout(2, 16), mode: 'luma' },
  { name: '8-bit RGB luma', layout: layout(3, 8), mode: 'luma' },
  { name: '8-bit RGBA per-channel', layout: layout(4, 8), mode: 'per-channel' },
  { name: '16-bit RGB per-channel', layout: layout(3, 16), mode: 'per-channel' },
];

function layout(channels: PixelLayout['channels'], depth: PixelLayout['depth']): PixelLayout {
  return { width: WIDTH, height: ROWS, channels, depth };
}

function maxOf(l: PixelLayout): number {
  return l.depth === 8 ? 255 : 65535;
}

function randomSamples(l: PixelLayout, seed: number): Samples {
  const random = rng(seed);
  const n = l.width * l.height * l.channels;
  const out = l.depth === 8 ? new Uint8Array(n) : new Uint16Array(n);
  // A narrow band plus the extremes, like a low-contrast image.
  const max = maxOf(l);
  for (let i = 0; i < n; i++) out[i] = Math.floor(max * 0.3 + random() * max * 0.4);
  out[0] = 0;
  out[n - 1] = max;
  return out;
}

function randomLuts(l: PixelLayout, mode: ColourMode, seed: number): Samples {
  const random = rng(seed);
  const bins = maxOf(l) + 1;
  const planes = mode === 'per-channel' && l.channels >= 3 ? 3 : 1;
  const lut = l.depth === 8 ? new Uint8Array(planes * bins) : new Uint16Array(planes * bins);
  for (let i = 0; i < lut.length; i++) lut[i] = Math.floor(random() * bins);
  return lut;
}

/** BT.601 luma in 16-bit fixed point, as the README documents it: 19595, 38470, 7471. */
function referenceLuma(r: number, g: number, b: number): number {
  return Math.floor((19595 * r + 38470 * g + 7471 * b + 32768) / 65536);
}

function referenceApply(input: Samples, l: PixelLayout, mode: ColourMode, lut: Samples): Samples {
  const out = input.slice();
  const ch = l.channels;
  const bins = maxOf(l) + 1;
  const max = maxOf(l);
  for (let i = 0; i < out.length; i += ch) {
    if (ch <= 2) {
      out[i] = lut[input[i]];
    } else if (mode === 'per-channel') {
      for (let c = 0; c < 3; c++) out[i + c] = lut[c * bins + input[i + c]];
    } else {
      const y = referenceLuma(input[i], input[i + 1], input[i + 2]);
      const shift = lut[y] - y;
      for (let c = 0; c < 3; c++) out[i + c] = Math.min(max, Math.max(0, input[i + c] + shift));
    }
  }
  return out;
}

function referenceHistogram(input: Samples, l: PixelLayout, mode: ColourMode): Uint32Array {
  const bins = maxOf(l) + 1;
  const ch = l.channels;
  const perChannel = mode === 'per-channel' && ch >= 3;
  const hist = new Uint32Array((perChannel ? 3 : 1) * bins);
  for (let i = 0; i < input.length; i += ch) {
    if (ch <= 2) hist[input[i]]++;
    else if (perChannel) for (let c = 0; c < 3; c++) hist[c * bins + input[i + c]]++;
    else hist[referenceLuma(input[i], input[i + 1], input[i + 2])]++;
  }
  return hist;
}

/** One call of the kind with its own fixed image and LUT, checked against the references. */
function check(kind: Kind, seed: number, label: string): void {
  const input = randomSamples(kind.layout, seed);
  const lut = randomLuts(kind.layout, kind.mode, seed + 1);
  const hist = computeHistogram(input, kind.layout, kind.mode);
  assert.deepEqual(hist, referenceHistogram(input, kind.layout, kind.mode), `${label}: histogram`);
  const samples = input.slice();
  applyLuts(samples, kind.layout, kind.mode, lut);
  assert.deepEqual(samples, referenceApply(input, kind.layout, kind.mode, lut), `${label}: LUT`);
}

describe('kernels interleaved on one thread', () => {
  it('every ordered pair of kinds, then the first again with the same LUT, is exact', () => {
    for (const [ai, a] of KINDS.entries()) {
      for (const [bi, b] of KINDS.entries()) {
        if (ai === bi) continue;
        const label = `${a.name} → ${b.name} → ${a.name}`;
        // The same seed for both calls of `a`: the same LUT again, the case a stale cache misses.
        check(a, 100 + ai, `${label} (1st)`);
        check(b, 200 + bi, `${label} (2nd)`);
        check(a, 100 + ai, `${label} (3rd)`);
      }
    }
  });

  it('a seeded random sequence of calls repeating a few images and LUTs is exact', () => {
    const seed = 20261201;
    const random = rng(seed);
    for (let step = 0; step < 300; step++) {
      const kind = KINDS[Math.floor(random() * KINDS.length)]!;
      // Few distinct seeds per kind: jobs repeat images, so LUTs repeat across other work.
      const variant = Math.floor(random() * 3);
      check(kind, 1000 + variant * 10, `seed ${seed} step ${step}: ${kind.name} #${variant}`);
    }
  });
});
