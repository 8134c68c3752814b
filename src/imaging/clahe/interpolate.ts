import { roundHalfEven } from '../rounding.js';
import type { ColourMode, Lut, PixelLayout, Samples } from '../types.js';
import type { ClaheGrid } from './grid.js';
import { readPlaneRow, writePlaneRow } from './planes.js';

const f = Math.fround;

/**
 * Where a coordinate falls between tile centres, in OpenCV's float32 arithmetic:
 * t = float32(i × float32(1 / tileSize)) − 0.5, the lower tile floor(t) and the weight of the
 * upper one t − floor(t); the tile indices are then clamped to the grid (edge clamping).
 */
export interface Blend {
  lower: number;
  upper: number;
  upperWeight: number;
  lowerWeight: number;
}

export function blendAt(i: number, tileSize: number, tiles: number): Blend {
  const t = f(f(f(i) * f(1 / tileSize)) - 0.5);
  const lower = Math.floor(t);
  const upperWeight = f(t - lower);
  return {
    lower: Math.max(lower, 0),
    upper: Math.min(lower + 1, tiles - 1),
    upperWeight,
    lowerWeight: f(1 - upperWeight),
  };
}

/**
 * One output value: the bilinear blend of the four nearest tiles' tables at `v`, each product
 * and sum rounded to float32 in OpenCV's order, then rounded half to even and saturated.
 */
export function blendValue(
  tables: Lut,
  row1: number,
  row2: number,
  col1: number,
  col2: number,
  v: number,
  x: Blend | { lowerWeight: number; upperWeight: number },
  y: Blend,
  max: number,
): number {
  const top = f(
    f(tables[row1 + col1 + v]! * x.lowerWeight) + f(tables[row1 + col2 + v]! * x.upperWeight),
  );
  const bottom = f(
    f(tables[row2 + col1 + v]! * x.lowerWeight) + f(tables[row2 + col2 + v]! * x.upperWeight),
  );
  const r = roundHalfEven(f(f(top * y.lowerWeight) + f(bottom * y.upperWeight)));
  return r > max ? max : r;
}

/** roundHalfEven for the blend's non-negative values, cheap enough for the per-pixel loop. */
function nearestEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) === 1 ? r - 1 : r;
}

/**
 * Equalizes rows `top … top + chunk.height − 1` of the image, held in `samples`, in place from the
 * tables (buildClaheTables). Each pixel needs only its value, its position and the tables, so
 * bands can be equalized anywhere and stitched. Column weights are worked out once per call.
 */
export function interpolateRows(
  samples: Samples,
  chunk: PixelLayout,
  top: number,
  mode: ColourMode,
  grid: ClaheGrid,
  tables: Lut,
): void {
  const { width, bins, tilesX, tilesY, planes } = grid;
  if (chunk.width !== width || top < 0 || top + chunk.height > grid.height) {
    throw new RangeError(`rows ${top}+${chunk.height} do not fit the CLAHE grid`);
  }
  if (tables.length !== planes * tilesX * tilesY * bins) {
    throw new RangeError('the CLAHE tables do not fit the grid');
  }
  const col1 = new Int32Array(width);
  const col2 = new Int32Array(width);
  const w1 = new Float32Array(width);
  const w2 = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const b = blendAt(x, grid.tileWidth, tilesX);
    col1[x] = b.lower * bins;
    col2[x] = b.upper * bins;
    w1[x] = b.lowerWeight;
    w2[x] = b.upperWeight;
  }
  const before = new Uint16Array(width);
  const after = new Uint16Array(width);
  const max = bins - 1;
  const rowBlock = tilesX * bins;
  for (let r = 0; r < chunk.height; r++) {
    const y = blendAt(top + r, grid.tileHeight, tilesY);
    const ya1 = y.lowerWeight;
    const ya = y.upperWeight;
    for (let p = 0; p < planes; p++) {
      const row1 = (p * tilesY + y.lower) * rowBlock;
      const row2 = (p * tilesY + y.upper) * rowBlock;
      readPlaneRow(samples, chunk, mode, r, p, before);
      for (let x = 0; x < width; x++) {
        const v = before[x]!;
        const xa1 = w1[x]!;
        const xa = w2[x]!;
        const a = row1 + v;
        const b = row2 + v;
        const c1 = col1[x]!;
        const c2 = col2[x]!;
        const upper = f(f(tables[a + c1]! * xa1) + f(tables[a + c2]! * xa));
        const lower = f(f(tables[b + c1]! * xa1) + f(tables[b + c2]! * xa));
        const res = nearestEven(f(f(upper * ya1) + f(lower * ya)));
        after[x] = res > max ? max : res;
      }
      writePlaneRow(samples, chunk, mode, r, p, before, after);
    }
  }
}
