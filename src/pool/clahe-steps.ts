import { claheGrid, type ClaheBand, type ClaheParams } from '../imaging/clahe/grid.js';
import { BandInterpolator } from '../imaging/clahe/interpolate.js';
import { claheRowScalar } from '../imaging/clahe/scalar.js';
import { buildClaheTables } from '../imaging/clahe/tables.js';
import { BandTileHistograms, sumBandHistograms } from '../imaging/clahe/tile-histograms.js';
import type { PreviewPlan } from '../imaging/preview.js';
import {
  rowBytes,
  samplesOf,
  type ColourMode,
  type Lut,
  type PixelLayout,
} from '../imaging/types.js';
import type { StripRef } from './protocol.js';

/**
 * The CLAHE side of the pool's steps. Each works on chunks of whole rows and needs only to know
 * which image rows a chunk holds: `band.top` plus the chunk's row offset inside its strip.
 */

/**
 * The map step: per-tile histograms of the strip's rows, fed chunk by chunk (`at` is the chunk's
 * byte offset inside the strip) and serialized at the end (tile-histograms.ts).
 */
export function claheHistogramOf(
  source: StripRef,
  mode: ColourMode,
  band: ClaheBand,
): { add(bytes: Uint8Array, layout: PixelLayout, at: number): void; result(): Uint32Array } {
  const histograms = new BandTileHistograms(claheGrid(band.image, mode, band.params));
  const row = rowBytes(source.layout);
  return {
    add: (bytes, layout, at) =>
      histograms.addRows(samplesOf(bytes, layout), layout, band.top + at / row, mode),
    result: () => histograms.serialize(),
  };
}

/** The reduce step: the bands summed into the tiles' histograms, and every tile's table. */
export function claheTables(
  bands: readonly Uint32Array[],
  layout: PixelLayout,
  mode: ColourMode,
  params: ClaheParams,
): Lut {
  const grid = claheGrid(layout, mode, params);
  return buildClaheTables(sumBandHistograms(bands, grid), grid);
}

/** The equalize step's transform of one chunk of the strip (in place). */
export function claheChunkMapper(
  strip: PixelLayout,
  mode: ColourMode,
  band: ClaheBand,
  tables: Lut,
): (bytes: Uint8Array, layout: PixelLayout, at: number) => void {
  const interpolator = new BandInterpolator(claheGrid(band.image, mode, band.params), mode, tables);
  const row = rowBytes(strip);
  return (bytes, layout, at) =>
    interpolator.rows(samplesOf(bytes, layout), layout, band.top + at / row);
}

/**
 * The check's recomputation of strip row `y` (0-based in the strip) by the scalar path, in place
 * on `expected`, which holds that row of the source.
 */
export function claheCheckRow(
  expected: Uint8Array,
  strip: PixelLayout,
  y: number,
  mode: ColourMode,
  band: ClaheBand,
  tables: Lut,
): void {
  const one = { ...strip, height: 1 };
  const grid = claheGrid(band.image, mode, band.params);
  claheRowScalar(samplesOf(expected, one), one, band.top + y, mode, grid, tables);
}

/**
 * A preview's sampled pixels through CLAHE, in place: each at its own position in the image,
 * through the band kernels (the result check, not the preview, is what recomputes by the scalar
 * path).
 */
export function claheSampledPreview(
  samples: Uint8Array,
  plan: PreviewPlan,
  image: PixelLayout,
  mode: ColourMode,
  params: ClaheParams,
  tables: Lut,
): void {
  const grid = claheGrid(image, mode, params);
  const interpolator = new BandInterpolator(grid, mode, tables, plan.columns);
  const one = { ...plan.layout, height: 1 };
  const row = rowBytes(one);
  plan.rows.forEach((y, i) => {
    interpolator.rows(samplesOf(samples.subarray(i * row, (i + 1) * row), one), one, y);
  });
}
