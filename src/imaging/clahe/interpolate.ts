import { roundHalfEven } from '../rounding.js';
import type { ColourMode, Lut, PixelLayout, Samples } from '../types.js';
import type { ClaheGrid } from './grid.js';
import { readPlaneRow, writePlaneRow } from './planes.js';
import {
  claheKernels,
  pairSlotBytes,
  samplesIn,
  slotBytes,
  tilePairOf,
} from './wasm/clahe-kernels.js';

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

/**
 * Per image column (or per one of `columns`, a preview's sampled ones), what the blend kernels
 * read, as four arrays of `width` rounded up to 4 entries one after the other (so four columns
 * load as one vector), then their weights (f32). At 16 bits the first two are the byte offsets of
 * the left and right tiles' float32 tables inside a tile row (i32); at 8 bits the first is the
 * byte offset of the column's tile pair in the pair tables (pairTablesAt) and the second is
 * unused. Worked out once per band.
 */
export function columnRecords(grid: ClaheGrid, columns?: readonly number[]): Uint8Array {
  const { bins, tilesX } = grid;
  const width = columns ? columns.length : grid.width;
  const span = (width + 3) & ~3;
  const buffer = new ArrayBuffer(span * 16);
  const ints = new Int32Array(buffer);
  const floats = new Float32Array(buffer);
  for (let x = 0; x < width; x++) {
    const b = blendAt(columns ? columns[x]! : x, grid.tileWidth, tilesX);
    if (bins === 256) {
      ints[x] = tilePairOf(b.lower, b.upper, tilesX) * 256 * 16;
    } else {
      ints[x] = b.lower * bins * 4;
      ints[span + x] = b.upper * bins * 4;
    }
    floats[2 * span + x] = b.lowerWeight;
    floats[3 * span + x] = b.upperWeight;
  }
  return new Uint8Array(buffer);
}

/** Bytes of rows copied into WebAssembly memory per kernel pass: whole rows, cache-sized. */
const PIECE_BYTES = 1 << 20;

/**
 * Equalizes chunks of whole rows of one band in place from the tables (buildClaheTables), with
 * the WebAssembly blend kernels. Each pixel needs only its value, its position and the tables, so
 * bands can be equalized anywhere and stitched. The column records are worked out once here.
 */
export class BandInterpolator {
  readonly #grid: ClaheGrid;
  readonly #tables: Lut;
  readonly #mode: ColourMode;
  readonly #columns: Uint8Array;
  readonly #width: number;

  /**
   * With `columns`, chunks hold only those columns of their image rows (a preview's sampled
   * pixels), which come out exact too: each pixel's output depends only on its value and position.
   */
  constructor(grid: ClaheGrid, mode: ColourMode, tables: Lut, columns?: readonly number[]) {
    if (tables.length !== grid.planes * grid.tilesX * grid.tilesY * grid.bins) {
      throw new RangeError('the CLAHE tables do not fit the grid');
    }
    this.#grid = grid;
    this.#mode = mode;
    this.#tables = tables;
    this.#columns = columnRecords(grid, columns);
    this.#width = columns ? columns.length : grid.width;
  }

  /** Rows `top … top + chunk.height − 1` of the image, held in `samples`, in place. */
  rows(samples: Samples, chunk: PixelLayout, top: number): void {
    const grid = this.#grid;
    const { bins, tilesX, tilesY } = grid;
    const width = this.#width;
    if (chunk.width !== width || top < 0 || top + chunk.height > grid.height) {
      throw new RangeError(`rows ${top}+${chunk.height} do not fit the CLAHE grid`);
    }
    if (chunk.height === 0) return;
    const size = samples.BYTES_PER_ELEMENT;
    const luma = chunk.channels >= 3 && this.#mode !== 'per-channel';
    const rowBytes = width * chunk.channels * size;
    const rowsPerPiece = Math.max(1, Math.floor(PIECE_BYTES / rowBytes));
    // Layout: the slots of regrouped tables at 0 (kept between calls), the column records, one
    // contiguous row for interleaved 8-bit samples, then the rows (or, for luma, one row of
    // values before and after).
    const rowEntries = tilesX * bins;
    const pairs = bins === 256;
    const slots = pairs ? pairSlotBytes(grid.planes, tilesX) : slotBytes(grid.planes, rowEntries);
    const cols = align(slots);
    const stride = luma ? size : chunk.channels * size;
    const contiguous = align(cols + this.#columns.length);
    const piece = align(contiguous + (pairs && stride !== 1 ? width : 0));
    const pieceBytes = luma ? 2 * width * size : Math.min(rowsPerPiece, chunk.height) * rowBytes;
    const k = claheKernels(piece + pieceBytes);
    let memory = k.reserve(piece + pieceBytes);
    memory.set(this.#columns, cols);
    // One row of plane p from `from` to `to`: the 8-bit kernel on its tile-pair tables (via a
    // contiguous copy when the samples are interleaved), the 16-bit one on its two float32 tile
    // rows.
    const blendRow = (from: number, to: number, p: number, y: Blend): void => {
      if (!pairs) {
        const row1 = k.tileRowAt(this.#tables, rowEntries, grid.planes, p, y.lower);
        const row2 = k.tileRowAt(this.#tables, rowEntries, grid.planes, p, y.upper);
        k.blend16(from, to, stride, width, cols, row1, row2, y.lowerWeight, y.upperWeight);
        return;
      }
      const at = k.pairTablesAt(this.#tables, grid, p, y.lower, y.upper);
      if (stride === 1) {
        k.blend8(from, to, width, cols, at, y.lowerWeight, y.upperWeight);
        return;
      }
      k.gather8(from, stride, width, contiguous);
      k.blend8(contiguous, contiguous, width, cols, at, y.lowerWeight, y.upperWeight);
      k.scatter8(contiguous, to, stride, width);
    };
    const all = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
    for (let first = 0; first < chunk.height; first += rowsPerPiece) {
      const count = Math.min(rowsPerPiece, chunk.height - first);
      const bytes = all.subarray(first * rowBytes, (first + count) * rowBytes);
      if (!luma) memory.set(bytes, piece);
      for (let r = 0; r < count; r++) {
        const y = blendAt(top + first + r, grid.tileHeight, tilesY);
        for (let p = 0; p < grid.planes; p++) {
          if (luma) {
            memory = k.reserve(0);
            const before = samplesIn(memory, piece, width, size);
            const after = samplesIn(memory, piece + width * size, width, size);
            readPlaneRow(samples, chunk, this.#mode, first + r, p, before);
            blendRow(piece, piece + width * size, p, y);
            writePlaneRow(samples, chunk, this.#mode, first + r, p, before, after);
          } else {
            const at = piece + r * rowBytes + p * size;
            blendRow(at, at, p, y);
          }
        }
      }
      memory = k.reserve(0);
      if (!luma) bytes.set(memory.subarray(piece, piece + bytes.length));
    }
  }
}

/** The next multiple of 16 bytes. */
function align(bytes: number): number {
  return (bytes + 15) & ~15;
}

/**
 * Equalizes rows `top … top + chunk.height − 1` of the image, held in `samples`, in place from the
 * tables (buildClaheTables). For many chunks of one band, build one BandInterpolator instead.
 */
export function interpolateRows(
  samples: Samples,
  chunk: PixelLayout,
  top: number,
  mode: ColourMode,
  grid: ClaheGrid,
  tables: Lut,
): void {
  new BandInterpolator(grid, mode, tables).rows(samples, chunk, top);
}
