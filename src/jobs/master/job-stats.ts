import { binsFor, type ColourMode, type Lut, type PixelLayout } from '../../imaging/types.js';

/** Bins of the UI's histograms: 16-bit counts are folded into 256 so every job draws alike. */
export const STATS_BINS = 256;

/**
 * What the dashboard draws for a finished job (`results/<id>.stats.json`): plane 0's histogram
 * before and after, and both CDFs (0…1). Plane 0 is what the LUT equalized: grey, the luma of
 * `luma` mode, or red in `per-channel` mode.
 */
export interface JobStats {
  id: string;
  plane: 'grey' | 'luma' | 'red';
  depth: 8 | 16;
  pixels: number;
  bins: number;
  input: number[];
  output: number[];
  inputCdf: number[];
  outputCdf: number[];
}

/**
 * Computed at the reduce step from the global histogram and the LUT alone: every pixel of
 * value v becomes lut[v], so the output histogram is the input's counts moved through the
 * LUT — no second pass over the pixels.
 */
export function jobStats(
  id: string,
  histogram: Uint32Array | Float64Array,
  lut: Lut,
  layout: PixelLayout,
  mode: ColourMode,
): JobStats {
  const bins = binsFor(layout);
  const shift = layout.depth === 16 ? 8 : 0;
  const input = new Array<number>(STATS_BINS).fill(0);
  const output = new Array<number>(STATS_BINS).fill(0);
  let pixels = 0;
  for (let v = 0; v < bins; v++) {
    const n = histogram[v];
    if (n === 0) continue;
    pixels += n;
    input[v >> shift] += n;
    output[lut[v] >> shift] += n;
  }
  return {
    id,
    plane: layout.channels <= 2 ? 'grey' : mode === 'luma' ? 'luma' : 'red',
    depth: layout.depth,
    pixels,
    bins: STATS_BINS,
    input,
    output,
    inputCdf: cdf(input, pixels),
    outputCdf: cdf(output, pixels),
  };
}

function cdf(counts: number[], total: number): number[] {
  let sum = 0;
  // Rounded: the file is for drawing, and 256 long decimals would triple its size.
  return counts.map((n) => {
    sum += n;
    return total === 0 ? 0 : Math.round((sum / total) * 1e6) / 1e6;
  });
}
