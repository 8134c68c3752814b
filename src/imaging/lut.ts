import { roundHalfEven } from './rounding.js';
import { binsFor, planesFor, type ColourMode, type Lut, type PixelLayout } from './types.js';

/** A strip's 32-bit counts or the image's exact sums (histogram.ts). */
type Counts = Uint32Array | Float64Array;

/**
 * Builds the equalization LUTs from a global histogram (one per plane, see computeHistogram).
 *
 *   lut[v] = round((cdf(v) - cdf_min) * maxValue / (total - cdf_min))
 *
 * 8-bit reproduces OpenCV's equalizeHist bit for bit: the scale is a float32 quotient, each
 * product is a float32 product, and rounding is half to even (cvRound). 16-bit uses the same
 * order of operations (scale first, then multiply) in float64, since float32 cannot hold 16-bit
 * cumulative counts exactly. A constant plane maps to itself.
 */
export function buildLuts(hist: Counts, layout: PixelLayout, mode: ColourMode): Lut {
  const bins = binsFor(layout);
  const planes = planesFor(layout, mode);
  if (hist.length !== planes * bins) {
    throw new RangeError(`histogram has ${hist.length} bins, expected ${planes * bins}`);
  }
  const luts = bins === 256 ? new Uint8Array(planes * bins) : new Uint16Array(planes * bins);
  for (let p = 0; p < planes; p++) {
    const plane = hist.subarray(p * bins, (p + 1) * bins);
    const out = luts.subarray(p * bins, (p + 1) * bins);
    if (bins === 256) fillLut8(plane, out);
    else fillLut16(plane, out);
  }
  return luts;
}

function fillIdentity(out: Lut): void {
  for (let v = 0; v < out.length; v++) out[v] = v;
}

function firstPresent(hist: Counts): number {
  let i = 0;
  while (i < hist.length && hist[i] === 0) i++;
  return i;
}

function totalOf(hist: Counts): number {
  let total = 0;
  for (let v = 0; v < hist.length; v++) total += hist[v];
  return total;
}

function fillLut8(hist: Counts, out: Lut): void {
  // Values below the darkest present one never occur; identity keeps the table well defined.
  fillIdentity(out);
  const first = firstPresent(hist);
  const total = totalOf(hist);
  if (first === hist.length || hist[first] === total) return;
  const f = Math.fround;
  // Double rounding of a float32 quotient/product through float64 is innocuous (53 ≥ 2·24+2).
  const scale = f(255 / f(total - hist[first]));
  out[first] = 0;
  let sum = 0;
  for (let v = first + 1; v < 256; v++) {
    sum += hist[v];
    const r = roundHalfEven(f(f(sum) * scale));
    out[v] = r > 255 ? 255 : r;
  }
}

function fillLut16(hist: Counts, out: Lut): void {
  fillIdentity(out);
  const first = firstPresent(hist);
  const total = totalOf(hist);
  if (first === hist.length || hist[first] === total) return;
  const scale = 65535 / (total - hist[first]);
  out[first] = 0;
  let sum = 0;
  for (let v = first + 1; v < 65536; v++) {
    sum += hist[v];
    const r = roundHalfEven(sum * scale);
    out[v] = r > 65535 ? 65535 : r;
  }
}
