import { rowBytes, type PixelLayout } from '../types.js';
import { outputJpeg, type JpegChunks } from './jpeg-page.js';

/** Compressions the tasks decode and encode themselves (tag 259 values). */
export const TASK_COMPRESSIONS = {
  none: 1,
  lzw: 5,
  deflate: 8,
  /** Deflate under its old, pre-Adobe code: read as deflate, written as 8. */
  oldDeflate: 32946,
  packbits: 32773,
  /** Lossy: decoded and encoded by libjpeg (jpeg-chunk.ts). */
  jpeg: 7,
} as const;
export type TaskCompression = (typeof TASK_COMPRESSIONS)[keyof typeof TASK_COMPRESSIONS];

/**
 * How a TIFF page's samples are cut into independently compressed chunks: strips (whole rows,
 * `chunkWidth` = the image width) or tiles (edge tiles padded to the full tile size). Small
 * enough for a job record and a task payload; the chunks' offsets live in a table file.
 */
export interface ChunkGeometry {
  layout: PixelLayout;
  tiled: boolean;
  chunkWidth: number;
  chunkHeight: number;
  compression: TaskCompression;
  /** 1 none, 2 horizontal differencing. */
  predictor: 1 | 2;
  /** Byte order of 16-bit samples in the file. */
  littleEndian: boolean;
  /** Deflate only: the zlib level to encode with (deflate-level.ts); default 6. */
  deflateLevel?: number;
  /** JPEG only: how the chunks are coded (jpeg-page.ts). */
  jpeg?: JpegChunks;
}

export function chunksAcross(g: ChunkGeometry): number {
  return g.tiled ? Math.ceil(g.layout.width / g.chunkWidth) : 1;
}

export function chunkRowCount(g: ChunkGeometry): number {
  return Math.ceil(g.layout.height / g.chunkHeight);
}

/** Image rows in chunk row `r` (the last one may be short; its tiles are padded anyway). */
export function rowsInChunkRow(g: ChunkGeometry, r: number): number {
  return Math.min(g.chunkHeight, g.layout.height - r * g.chunkHeight);
}

export function pixelBytes(layout: PixelLayout): number {
  return layout.channels * (layout.depth === 16 ? 2 : 1);
}

/** Decoded bytes of one chunk of chunk row `r`: a full tile, or the strip's rows. */
export function chunkBytes(g: ChunkGeometry, r: number): number {
  return g.tiled
    ? g.chunkWidth * g.chunkHeight * pixelBytes(g.layout)
    : rowsInChunkRow(g, r) * rowBytes(g.layout);
}

/** Pixels per row of one chunk (the predictor works row by row inside a chunk). */
export function chunkRowPixels(g: ChunkGeometry): number {
  return g.tiled ? g.chunkWidth : g.layout.width;
}

/**
 * The same geometry as written by the tasks: samples little-endian, deflate under code 8, JPEG
 * as complete streams (jpeg-page.ts).
 */
export function outputGeometry(g: ChunkGeometry): ChunkGeometry {
  const compression = g.compression === TASK_COMPRESSIONS.oldDeflate ? 8 : g.compression;
  const jpeg = g.jpeg && outputJpeg(g.jpeg);
  return { ...g, compression, littleEndian: true, ...(jpeg ? { jpeg } : {}) };
}
