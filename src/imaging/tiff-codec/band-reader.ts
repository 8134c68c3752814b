import { closeSync, openSync } from 'node:fs';
import { HisteqError } from '../../common/errors.js';
import { rowBytes, type PixelLayout } from '../types.js';
import { bandChunkRows, type CodecBandRef } from './band.js';
import { decodeAnyChunk } from './chunk-codec.js';
import { readExactly, growable } from './file-io.js';
import { chunkBytes, chunksAcross, pixelBytes, rowsInChunkRow } from './geometry.js';
import { CHUNK_ENTRY_BYTES } from './page.js';

/** Visits of about this size: many small strips are decoded into one visit. */
const VISIT_BYTES = 4 << 20;

const storedBuffer = growable();
const tileBuffer = growable();
const tableBuffer = growable();
const rowsBuffer = growable();

/**
 * Reads a band chunk row by chunk row: only the band's chunks and table entries are read, and
 * memory is a few per-thread buffers of one chunk row each, whatever the size of the image.
 */
export class BandReader {
  readonly #ref: CodecBandRef;
  readonly #fd: number;
  readonly #tableFd: number;
  /** Chunk rows in the band. */
  readonly chunkRows: number;

  constructor(ref: CodecBandRef) {
    this.#ref = ref;
    this.chunkRows = bandChunkRows(ref.codec, ref.layout.height);
    this.#fd = openSync(ref.path, 'r');
    try {
      this.#tableFd = openSync(ref.codec.table, 'r');
    } catch (err) {
      closeSync(this.#fd);
      throw err;
    }
  }

  /** Image rows in the band's chunk row `r`. */
  rowsIn(r: number): number {
    const g = this.#ref.codec.geometry;
    return rowsInChunkRow(g, this.#ref.codec.top / g.chunkHeight + r);
  }

  /**
   * Decodes the band's chunk row `r` into `dst`: its image rows, interleaved; with `rows`, only
   * its first `rows` rows (each chunk's decoding stops once they are out; JPEG's decodes whole).
   */
  async readChunkRow(r: number, dst: Uint8Array, rows = this.rowsIn(r)): Promise<void> {
    const { geometry: g, tableOffset } = this.#ref.codec;
    const across = chunksAcross(g);
    const table = tableBuffer(across * CHUNK_ENTRY_BYTES);
    readExactly(this.#tableFd, table, tableOffset + r * across * CHUNK_ENTRY_BYTES, 'chunk table');
    const entries = new Float64Array(table.buffer, table.byteOffset, 2 * across);
    const pageRow = this.#ref.codec.top / g.chunkHeight + r;
    const wanted = Math.min(rows, this.rowsIn(r));
    const decodedBytes = chunkBytes(g, pageRow);
    const wantedBytes =
      wanted * (g.tiled ? g.chunkWidth * pixelBytes(g.layout) : rowBytes(g.layout));
    for (let c = 0; c < across; c++) {
      const count = entries[2 * c + 1];
      // Compressed data never needs to be much larger than the samples it holds.
      if (count > 2 * decodedBytes + 65536) throw oversized(count, decodedBytes);
      const stored = storedBuffer(count);
      readExactly(this.#fd, stored, entries[2 * c], 'the image data');
      if (!g.tiled) {
        await decodeAnyChunk(g, stored, dst.subarray(0, wantedBytes), decodedBytes);
        continue;
      }
      const tile = tileBuffer(decodedBytes).subarray(0, wantedBytes);
      await decodeAnyChunk(g, stored, tile, decodedBytes);
      copyTileIn(tile, dst, g.layout, g.chunkWidth, c, wanted);
    }
  }

  close(): void {
    closeSync(this.#fd);
    closeSync(this.#tableFd);
  }
}

function oversized(count: number, decoded: number): HisteqError {
  return new HisteqError(
    'BAD_INPUT',
    `A chunk of the TIFF claims ${count} stored bytes for ${decoded} decoded ones; the file is corrupt.`,
  );
}

/** Copies the part of tile `c` that lies inside the image into its place in the band's rows. */
export function copyTileIn(
  tile: Uint8Array,
  dst: Uint8Array,
  layout: PixelLayout,
  tileWidth: number,
  c: number,
  rows: number,
): void {
  const px = pixelBytes(layout);
  const tileRow = tileWidth * px;
  const row = rowBytes(layout);
  const x = c * tileWidth * px;
  const bytes = Math.min(tileRow, row - x);
  for (let y = 0; y < rows; y++) {
    dst.set(tile.subarray(y * tileRow, y * tileRow + bytes), y * row + x);
  }
}

/**
 * Visits a band in chunks of whole chunk rows (about VISIT_BYTES, at least one chunk row), each
 * decoded into the thread's reused buffer; `at` is the chunk's byte offset inside the band.
 */
export async function forEachDecodedChunk(
  ref: CodecBandRef,
  visit: (bytes: Uint8Array, layout: PixelLayout, at: number) => Promise<void> | void,
): Promise<void> {
  const row = rowBytes(ref.layout);
  const chunkRowBytes = ref.codec.geometry.chunkHeight * row;
  const perVisit = Math.max(1, Math.floor(VISIT_BYTES / chunkRowBytes));
  const reader = new BandReader(ref);
  try {
    let at = 0;
    for (let r = 0; r < reader.chunkRows; r += perVisit) {
      const last = Math.min(reader.chunkRows, r + perVisit);
      let rows = 0;
      for (let k = r; k < last; k++) rows += reader.rowsIn(k);
      const bytes = rowsBuffer(rows * row);
      for (let k = r, y = 0; k < last; y += reader.rowsIn(k), k++) {
        await reader.readChunkRow(k, bytes.subarray(y * row));
      }
      await visit(bytes, { ...ref.layout, height: rows }, at);
      at += rows * row;
    }
  } finally {
    reader.close();
  }
}
