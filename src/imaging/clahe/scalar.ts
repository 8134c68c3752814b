import type { ColourMode, Lut, PixelLayout, Samples } from '../types.js';
import type { ClaheGrid } from './grid.js';
import { blendAt, blendValue } from './interpolate.js';
import { readPlaneRow, writePlaneRow } from './planes.js';

/**
 * One image row `y` equalized in place the plain way: every pixel's weights worked out on their
 * own, nothing cached between pixels or calls. What the master checks sampled rows of a CLAHE
 * result against, so a fault in the band kernels cannot confirm itself.
 */
export function claheRowScalar(
  row: Samples,
  layout: PixelLayout,
  y: number,
  mode: ColourMode,
  grid: ClaheGrid,
  tables: Lut,
): void {
  const { width, bins, tilesX, tilesY, planes } = grid;
  if (layout.width !== width || layout.height !== 1 || y < 0 || y >= grid.height) {
    throw new RangeError(`row ${y} does not fit the CLAHE grid`);
  }
  const before = new Uint16Array(layout.width);
  const after = new Uint16Array(layout.width);
  const yb = blendAt(y, grid.tileHeight, tilesY);
  for (let p = 0; p < planes; p++) {
    readPlaneRow(row, layout, mode, 0, p, before);
    const row1 = (p * tilesY + yb.lower) * tilesX * bins;
    const row2 = (p * tilesY + yb.upper) * tilesX * bins;
    for (let x = 0; x < layout.width; x++) {
      const xb = blendAt(x, grid.tileWidth, tilesX);
      const c1 = xb.lower * bins;
      const c2 = xb.upper * bins;
      after[x] = blendValue(tables, row1, row2, c1, c2, before[x]!, xb, yb, bins - 1);
    }
    writePlaneRow(row, layout, mode, 0, p, before, after);
  }
}
