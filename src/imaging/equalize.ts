import { luma16, luma8 } from './luma.js';
import {
  binsFor,
  bytesPerSample,
  type ColourMode,
  type Lut,
  type PixelLayout,
  type Samples,
} from './types.js';
import { mapGrey } from './wasm/kernels.js';

/**
 * Applies the LUTs from buildLuts to a strip, in place. Every output pixel depends only on its
 * input pixel and the global LUT, so strips can be equalized anywhere in any order and stitched.
 */
export function applyLuts(
  samples: Samples,
  layout: PixelLayout,
  mode: ColourMode,
  luts: Lut,
): void {
  const ch = layout.channels;
  checkShapes(samples, layout, luts);
  if (ch === 1 || ch === 2) {
    // Grey and grey+alpha, the hot cases: WebAssembly (see wasm/kernels.wat for why).
    mapGrey(samples, ch, luts);
  } else {
    mapColour(samples, layout, mode, luts);
  }
}

/**
 * The same mapping one sample at a time in plain JavaScript, with no tables, chunks or state
 * kept between calls: what the master checks sampled rows of a result against, so a fault in
 * the fast kernels (or in what they cache) cannot confirm itself.
 */
export function applyLutsScalar(
  samples: Samples,
  layout: PixelLayout,
  mode: ColourMode,
  luts: Lut,
): void {
  const ch = layout.channels;
  checkShapes(samples, layout, luts);
  if (ch === 1 || ch === 2) mapPlane(samples, ch, 0, luts, 0);
  else mapColour(samples, layout, mode, luts);
}

function checkShapes(samples: Samples, layout: PixelLayout, luts: Lut): void {
  if (samples.BYTES_PER_ELEMENT !== bytesPerSample(layout) || luts.length < binsFor(layout)) {
    throw new RangeError(`samples or LUT do not match a ${layout.depth}-bit layout`);
  }
}

/** RGB and RGBA (plain JavaScript, not a hot case). */
function mapColour(samples: Samples, layout: PixelLayout, mode: ColourMode, luts: Lut): void {
  if (mode === 'per-channel') {
    const bins = binsFor(layout);
    for (let c = 0; c < 3; c++) mapPlane(samples, layout.channels, c, luts, c * bins);
  } else {
    mapLuma(samples, layout, luts);
  }
}

/** Maps one interleaved channel through its plane of the LUTs. */
function mapPlane(samples: Samples, stride: number, offset: number, lut: Lut, lutOffset: number) {
  const n = samples.length;
  for (let i = offset; i < n; i += stride) samples[i] = lut[lutOffset + samples[i]];
}

/**
 * Luma mode: the luminance Y goes through the LUT and the colour differences R−Y, G−Y, B−Y are
 * kept (so Cb and Cr, which are linear in them, are unchanged: no colour shift). A channel that
 * would leave the value range is clamped.
 */
function mapLuma(samples: Samples, layout: PixelLayout, lut: Lut): void {
  const ch = layout.channels;
  const n = samples.length;
  const max = layout.depth === 16 ? 65535 : 255;
  const luma = layout.depth === 16 ? luma16 : luma8;
  for (let i = 0; i < n; i += ch) {
    const r = samples[i];
    const g = samples[i + 1];
    const b = samples[i + 2];
    const shift = lut[luma(r, g, b)] - luma(r, g, b);
    samples[i] = clamp(r + shift, max);
    samples[i + 1] = clamp(g + shift, max);
    samples[i + 2] = clamp(b + shift, max);
  }
}

function clamp(v: number, max: number): number {
  return v < 0 ? 0 : v > max ? max : v;
}
