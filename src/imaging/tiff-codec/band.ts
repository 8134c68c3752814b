import type { PixelLayout } from '../types.js';
import type { ChunkGeometry } from './geometry.js';

/**
 * A band of a chunked TIFF page: whole chunk rows (strips, or rows of tiles) starting at image
 * row `top`. The chunks are in `path`; where each one is and how long comes from a chunk table
 * (page.ts: CHUNK_ENTRY_BYTES per chunk, row-major), read from `table` at `tableOffset`.
 */
export interface CodecBand {
  geometry: ChunkGeometry;
  table: string;
  tableOffset: number;
  /** The band's first image row: a multiple of the chunk height. */
  top: number;
}

/** A band to read: the file holding its chunks, its own layout (its rows), and its chunks. */
export interface CodecBandRef {
  path: string;
  layout: PixelLayout;
  codec: CodecBand;
}

/** Chunk rows in a band of `rows` image rows starting at a chunk-row boundary. */
export function bandChunkRows(band: CodecBand, rows: number): number {
  return Math.ceil(rows / band.geometry.chunkHeight);
}
