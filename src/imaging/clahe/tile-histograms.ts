import type { ColourMode, PixelLayout, Samples } from '../types.js';
import { reflect101, type ClaheGrid } from './grid.js';
import { readPlaneRow } from './planes.js';
import { claheKernels, samplesIn } from './wasm/clahe-kernels.js';

/**
 * Where each image row and column counts in OpenCV's padded image. A row counts in its own tile
 * row, and again in the tile row of every padded row that reflects onto it; the same for
 * columns. Attributing padding to the row it copies (not to the band that holds the image's last
 * row) is what lets bands be cut anywhere: every padded pixel is counted exactly once, by the
 * band that holds its source.
 */
export interface TileAttribution {
  /** Per padded row below the image: the image row it copies. */
  paddedRowSources: Int32Array;
  /** Per image column: the first bin of its tile column's histogram (tile column × bins). */
  columnBase: Int32Array;
  /** Per padded column right of the image: the image column it copies, and its tile's base. */
  paddedColumnSources: Int32Array;
  paddedColumnBase: Int32Array;
}

export function tileAttribution(grid: ClaheGrid): TileAttribution {
  const { width, height, paddedWidth, paddedHeight, tileWidth, bins } = grid;
  const paddedRowSources = Int32Array.from({ length: paddedHeight - height }, (_, j) =>
    reflect101(height + j, height),
  );
  const columnBase = Int32Array.from({ length: width }, (_, x) => Math.floor(x / tileWidth) * bins);
  const paddedColumnSources = Int32Array.from({ length: paddedWidth - width }, (_, j) =>
    reflect101(width + j, width),
  );
  const paddedColumnBase = Int32Array.from(
    { length: paddedWidth - width },
    (_, j) => Math.floor((width + j) / tileWidth) * bins,
  );
  return { paddedRowSources, columnBase, paddedColumnSources, paddedColumnBase };
}

/** The tile rows image row `y` counts in (its own first, then those of padded copies). */
export function tileRowsOf(y: number, grid: ClaheGrid, at: TileAttribution): number[] {
  const rows = [Math.floor(y / grid.tileHeight)];
  at.paddedRowSources.forEach((source, j) => {
    if (source === y) rows.push(Math.floor((grid.height + j) / grid.tileHeight));
  });
  return rows;
}

/**
 * Per-tile histograms of one band of rows, for only the tile rows the band counts in. Each tile
 * row holds `planes × tilesX × bins` counts (plane-major). Rows arrive as chunks of whole rows in
 * any order; histograms of bands that cover the image add up to the tiles' histograms.
 */
export class BandTileHistograms {
  readonly grid: ClaheGrid;
  readonly #at: TileAttribution;
  readonly #rows = new Map<number, Uint32Array>();
  #values: Uint16Array;

  constructor(grid: ClaheGrid) {
    this.grid = grid;
    this.#at = tileAttribution(grid);
    this.#values = new Uint16Array(grid.width);
  }

  /** Counts rows `top … top + chunk.height − 1` of the image, held in `samples`. */
  addRows(samples: Samples, chunk: PixelLayout, top: number, mode: ColourMode): void {
    const { width, height } = this.grid;
    if (chunk.width !== width || top < 0 || top + chunk.height > height) {
      throw new RangeError(`rows ${top}+${chunk.height} do not fit the CLAHE grid`);
    }
    if (chunk.height === 0) return;
    this.#countImageColumns(samples, chunk, top, mode);
    this.#countCopies(samples, chunk, top, mode);
  }

  /**
   * Every row's image columns into its own tile row, with the WebAssembly kernels: rows copied in
   * pieces (or, for luma, computed row by row) and counted a run of rows of one tile row at a
   * time into per-tile-column histograms, which are then added to the tile row's counts.
   */
  #countImageColumns(samples: Samples, chunk: PixelLayout, top: number, mode: ColourMode): void {
    const { planes, tilesX, bins, width, tileWidth, tileHeight } = this.grid;
    const size = samples.BYTES_PER_ELEMENT;
    const luma = chunk.channels >= 3 && mode !== 'per-channel';
    const rowBytes = width * chunk.channels * size;
    const rowsPerPiece = Math.max(1, Math.floor(PIECE_BYTES / rowBytes));
    const histBytes = tilesX * (bins === 256 ? 4096 : 4 * bins);
    const pieceBytes = luma ? width * size : Math.min(rowsPerPiece, chunk.height) * rowBytes;
    const k = claheKernels(histBytes + pieceBytes);
    k.forgetTables();
    const memory = k.reserve(histBytes + pieceBytes);
    const hist = new Uint32Array(memory.buffer, 0, histBytes / 4);
    hist.fill(0);
    const count = bins === 256 ? k.hist8 : k.hist16;
    const stride = luma ? size : chunk.channels * size;
    const all = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
    const lumaRow = luma ? samplesIn(memory, histBytes, width, size) : null;
    // The kernels' histograms hold the counts of one tile row and plane, added to that tile
    // row's counts only when the next run is of another (at 16 bits the adding costs about one
    // operation per bin, as much as counting a piece of rows does).
    let held: { tileRow: number; plane: number } | null = null;
    const fold = (): void => {
      if (held) addTileColumns(hist, bins, this.#tileRow(held.tileRow), held.plane * tilesX * bins);
      held = null;
    };
    for (let first = 0; first < chunk.height; first += rowsPerPiece) {
      const rows = Math.min(rowsPerPiece, chunk.height - first);
      if (!luma) memory.set(all.subarray(first * rowBytes, (first + rows) * rowBytes), histBytes);
      for (let p = 0; p < planes; p++) {
        // Runs of rows in one tile row: [run, runEnd) inside the piece.
        for (let run = 0; run < rows;) {
          const tileRow = Math.floor((top + first + run) / tileHeight);
          const runEnd = Math.min(rows, (tileRow + 1) * tileHeight - top - first);
          if (held && (held.tileRow !== tileRow || held.plane !== p)) fold();
          held = { tileRow, plane: p };
          if (luma) {
            for (let r = run; r < runEnd; r++) {
              readPlaneRow(samples, chunk, mode, first + r, p, lumaRow!);
              count(histBytes, stride, width, tileWidth, 0, 1, 0);
            }
          } else {
            count(
              histBytes + run * rowBytes + p * size,
              stride,
              width,
              tileWidth,
              0,
              runEnd - run,
              rowBytes,
            );
          }
          run = runEnd;
        }
      }
    }
    fold();
  }

  /**
   * The padded pixels each row is the source of: its copies in the padded columns, and the
   * whole padded row (with its padded columns) for a row that padded rows below the image copy.
   */
  #countCopies(samples: Samples, chunk: PixelLayout, top: number, mode: ColourMode): void {
    const { planes, tilesX, bins, width } = this.grid;
    const { columnBase, paddedColumnSources, paddedColumnBase } = this.#at;
    const values = this.#values;
    for (let r = 0; r < chunk.height; r++) {
      const tileRows = tileRowsOf(top + r, this.grid, this.#at);
      if (paddedColumnSources.length === 0 && tileRows.length === 1) continue;
      for (let p = 0; p < planes; p++) {
        readPlaneRow(samples, chunk, mode, r, p, values);
        const base = p * tilesX * bins;
        tileRows.forEach((tileRow, copy) => {
          const counts = this.#tileRow(tileRow);
          if (copy > 0) {
            for (let x = 0; x < width; x++) counts[base + columnBase[x]! + values[x]!]++;
          }
          for (let j = 0; j < paddedColumnSources.length; j++) {
            counts[base + paddedColumnBase[j]! + values[paddedColumnSources[j]!]!]++;
          }
        });
      }
    }
  }

  #tileRow(tileRow: number): Uint32Array {
    let counts = this.#rows.get(tileRow);
    if (!counts) {
      counts = new Uint32Array(this.grid.planes * this.grid.tilesX * this.grid.bins);
      this.#rows.set(tileRow, counts);
    }
    return counts;
  }

  /** Samples counted so far (each padded pixel once, per plane). */
  counted(): number {
    let total = 0;
    for (const counts of this.#rows.values()) for (const c of counts) total += c;
    return total;
  }

  /** `[tile rows K, row_1 … row_K, counts of row_1 …]`, tile rows ascending. */
  serialize(): Uint32Array {
    const rows = [...this.#rows.keys()].sort((a, b) => a - b);
    const block = this.grid.planes * this.grid.tilesX * this.grid.bins;
    const out = new Uint32Array(1 + rows.length + rows.length * block);
    out[0] = rows.length;
    rows.forEach((row, k) => {
      out[1 + k] = row;
      out.set(this.#rows.get(row)!, 1 + rows.length + k * block);
    });
    return out;
  }
}

/** Samples (per plane) that the band of image rows `top … top + rows − 1` counts. */
export function expectedBandCount(grid: ClaheGrid, top: number, rows: number): number {
  const at = tileAttribution(grid);
  let copies = rows;
  for (const source of at.paddedRowSources) if (source >= top && source < top + rows) copies++;
  return copies * grid.paddedWidth * grid.planes;
}

/**
 * Adds serialized band histograms into the tiles' histograms: `planes × tilesY × tilesX × bins`
 * counts, plane-major then tile row. A tile row cut by a band border is summed here.
 */
export function sumBandHistograms(bands: readonly Uint32Array[], grid: ClaheGrid): Uint32Array {
  const { planes, tilesX, tilesY, bins } = grid;
  const rowBlock = tilesX * bins;
  const block = planes * rowBlock;
  const total = new Uint32Array(planes * tilesY * rowBlock);
  for (const band of bands) {
    const rows = band[0] ?? 0;
    if (band.length !== 1 + rows + rows * block) {
      throw new RangeError('a band histogram does not fit the CLAHE grid');
    }
    for (let k = 0; k < rows; k++) {
      const row = band[1 + k]!;
      if (row >= tilesY) throw new RangeError(`a band histogram names tile row ${row}`);
      for (let p = 0; p < planes; p++) {
        const from = 1 + rows + k * block + p * rowBlock;
        const to = (p * tilesY + row) * rowBlock;
        for (let i = 0; i < rowBlock; i++) total[to + i] += band[from + i]!;
      }
    }
  }
  return total;
}

/** Bytes of rows copied into WebAssembly memory per kernel pass: whole rows, cache-sized. */
const PIECE_BYTES = 1 << 20;

/**
 * Adds the kernels' per-tile-column histograms (8-bit: four sub-histograms each) to a tile
 * row's counts from `base`, and zeroes them for the next run.
 */
function addTileColumns(hist: Uint32Array, bins: number, counts: Uint32Array, base: number): void {
  const copies = bins === 256 ? 4 : 1;
  const tiles = hist.length / (copies * bins);
  for (let t = 0; t < tiles; t++) {
    const to = base + t * bins;
    for (let c = 0; c < copies; c++) {
      const from = (t * copies + c) * bins;
      for (let v = 0; v < bins; v++) counts[to + v] += hist[from + v]!;
    }
  }
  hist.fill(0);
}
