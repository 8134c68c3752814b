import { luma16, luma8 } from './luma.js';
import {
  binsFor,
  bytesPerSample,
  planesFor,
  type ColourMode,
  type PixelLayout,
  type Samples,
} from './types.js';
import { addGreyHistogram } from './wasm/kernels.js';

/**
 * Histogram of a strip: `planes × bins` counts (256 bins for 8-bit, 65536 for 16-bit). Plane 0
 * is grey or luma; per-channel colour has planes R, G, B. Alpha is never counted. Histograms of
 * strips add up to the histogram of the whole image, which is what makes the map step exact.
 */
export function computeHistogram(
  samples: Samples,
  layout: PixelLayout,
  mode: ColourMode,
): Uint32Array {
  const hist = emptyHistogram(layout, mode);
  addToHistogram(samples, layout, mode, hist);
  return hist;
}

export function emptyHistogram(layout: PixelLayout, mode: ColourMode): Uint32Array {
  return new Uint32Array(planesFor(layout, mode) * binsFor(layout));
}

/** Adds the counts of `samples` (whole pixels) to `hist`, so a strip can be counted in chunks. */
export function addToHistogram(
  samples: Samples,
  layout: PixelLayout,
  mode: ColourMode,
  hist: Uint32Array,
): void {
  const bins = binsFor(layout);
  const ch = layout.channels;
  if (samples.BYTES_PER_ELEMENT !== bytesPerSample(layout)) {
    throw new RangeError(`samples are not ${layout.depth}-bit`);
  }
  if (hist.length !== planesFor(layout, mode) * bins) {
    throw new RangeError('the histogram does not fit the layout and mode');
  }
  if (ch === 1 || ch === 2) {
    // Grey and grey+alpha, the hot cases: WebAssembly (see wasm/kernels.wat for why).
    addGreyHistogram(samples, ch, hist);
  } else if (mode === 'per-channel') {
    for (let c = 0; c < 3; c++) countPlane(samples, ch, c, hist, c * bins);
  } else {
    countLuma(samples, layout, hist);
  }
}

/**
 * Image-wide counts: doubles, exact to 2^53, so an image past 2^32 pixels still sums exactly
 * (a strip's own counts are 32-bit: the planner keeps every strip under 2^31 pixels).
 */
export type GlobalHistogram = Float64Array;

/** Adds histograms of the same shape (the reduce step). */
export function sumHistograms(histograms: readonly Uint32Array[]): GlobalHistogram {
  if (histograms.length === 0) throw new RangeError('sumHistograms needs at least one histogram');
  const total = new Float64Array(histograms[0].length);
  for (const h of histograms) {
    if (h.length !== total.length) throw new RangeError('histograms differ in size');
    for (let i = 0; i < h.length; i++) total[i] += h[i];
  }
  return total;
}

/** Counts one interleaved channel (RGB per-channel: plain JavaScript, not a hot case). */
function countPlane(
  samples: Samples,
  stride: number,
  offset: number,
  hist: Uint32Array,
  histOffset: number,
): void {
  const n = samples.length;
  for (let i = offset; i < n; i += stride) hist[histOffset + samples[i]]++;
}

function countLuma(samples: Samples, layout: PixelLayout, hist: Uint32Array): void {
  const ch = layout.channels;
  const n = samples.length;
  const luma = layout.depth === 16 ? luma16 : luma8;
  for (let i = 0; i < n; i += ch) hist[luma(samples[i], samples[i + 1], samples[i + 2])]++;
}
