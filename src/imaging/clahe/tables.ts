import { roundHalfEven } from '../rounding.js';
import type { Lut } from '../types.js';
import type { ClaheGrid } from './grid.js';

/**
 * Every tile's table from the tiles' summed histograms (sumBandHistograms), laid out the same
 * way: `planes × tilesY × tilesX × bins` entries. Follows OpenCV's CLAHE step by step:
 *
 * - each bin above the clip limit is cut to it, and the excess counted;
 * - the excess is spread evenly over all bins, and what does not divide goes one count each
 *   to every `max(bins / residual, 1)`-th bin from bin 0, while any remains;
 * - entry v is float32(cumulative count up to v) × float32 scale, rounded half to even
 *   (cvRound) and saturated to the sample range.
 */
export function buildClaheTables(sums: Uint32Array, grid: ClaheGrid): Lut {
  const { bins, clipCount, lutScale } = grid;
  const tiles = grid.planes * grid.tilesX * grid.tilesY;
  if (sums.length !== tiles * bins) {
    throw new RangeError(`tile histograms have ${sums.length} entries, expected ${tiles * bins}`);
  }
  const tables = bins === 256 ? new Uint8Array(tiles * bins) : new Uint16Array(tiles * bins);
  const hist = new Int32Array(bins);
  const max = bins - 1;
  const f = Math.fround;
  for (let t = 0; t < tiles; t++) {
    const base = t * bins;
    for (let v = 0; v < bins; v++) hist[v] = sums[base + v]!;
    clipAndRedistribute(hist, clipCount);
    let sum = 0;
    for (let v = 0; v < bins; v++) {
      sum += hist[v]!;
      const r = roundHalfEven(f(f(sum) * lutScale));
      tables[base + v] = r > max ? max : r;
    }
  }
  return tables;
}

function clipAndRedistribute(hist: Int32Array, limit: number): void {
  const bins = hist.length;
  let clipped = 0;
  for (let v = 0; v < bins; v++) {
    if (hist[v]! > limit) {
      clipped += hist[v]! - limit;
      hist[v] = limit;
    }
  }
  const batch = Math.floor(clipped / bins);
  let residual = clipped - batch * bins;
  if (batch > 0) for (let v = 0; v < bins; v++) hist[v] += batch;
  if (residual > 0) {
    const step = Math.max(Math.floor(bins / residual), 1);
    for (let v = 0; v < bins && residual > 0; v += step, residual--) hist[v]++;
  }
}
