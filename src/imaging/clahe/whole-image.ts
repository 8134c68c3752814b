import type { ColourMode, Lut, PixelLayout, Samples } from '../types.js';
import { claheGrid, type ClaheParams } from './grid.js';
import { interpolateRows } from './interpolate.js';
import { buildClaheTables } from './tables.js';
import { BandTileHistograms, sumBandHistograms } from './tile-histograms.js';

/**
 * CLAHE of a whole image in memory, in place: one band for the histograms, the tables, one band
 * for the interpolation. What `createCLAHE(clipLimit, tiles).apply` computes, on the luma or each
 * colour channel per mode. Returns the tables.
 */
export function claheImage(
  samples: Samples,
  layout: PixelLayout,
  mode: ColourMode,
  params: ClaheParams,
): Lut {
  const grid = claheGrid(layout, mode, params);
  const band = new BandTileHistograms(grid);
  band.addRows(samples, layout, 0, mode);
  const tables = buildClaheTables(sumBandHistograms([band.serialize()], grid), grid);
  interpolateRows(samples, layout, 0, mode, grid, tables);
  return tables;
}
