import { endianness } from 'node:os';
import { HisteqError } from '../../common/errors.js';
import { DEFAULT_LEVEL } from './deflate-level.js';
import { deflateChunkBytes, inflateChunkBytes, inflatePrefix } from './deflate.js';
import { chunkRowPixels, type ChunkGeometry } from './geometry.js';
import { decodeJpegChunk, encodeJpegChunk } from './jpeg-chunk.js';
import { decodeLzw, encodeLzw, type LzwPredictor } from './lzw.js';
import { decodePackBits, encodePackBits } from './packbits.js';
import { applyHorizontal, swapBytes16, undoHorizontal } from './predictor.js';

const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Decodes one chunk's stored bytes into `dst`, undoing the predictor and the file's byte order.
 * `dst` is the chunk's full decoded size (`fullBytes`: a whole tile, or the strip's rows), or
 * whole rows at its start: decoding then stops once they are out, which is what a check of a
 * few rows needs. Pool threads may block, so the codecs run synchronously. A chunk that
 * decodes short is corrupt.
 */
export function decodeChunk(
  g: ChunkGeometry,
  stored: Uint8Array,
  dst: Uint8Array,
  fullBytes = dst.length,
): void {
  const wide = g.layout.depth === 16;
  const swap = wide && g.littleEndian !== HOST_LITTLE_ENDIAN;
  // LZW undoes the predictor itself, unless the bytes must be swapped first.
  const lzwPredictor = g.compression === 5 && !swap ? lzwPredictorOf(g) : undefined;
  let written: number;
  try {
    written = decompress(g, stored, dst, fullBytes, lzwPredictor);
  } catch (err) {
    throw corrupt(err instanceof Error ? err.message : String(err));
  }
  if (written < dst.length) {
    throw corrupt(`a chunk holds ${written} of its ${dst.length} bytes`);
  }
  if (swap) swapBytes16(dst);
  if (g.predictor === 2 && !lzwPredictor) {
    undoHorizontal(samples(dst, wide), chunkRowPixels(g), g.layout.channels);
  }
}

/**
 * The predictor as the LZW codec runs it, or undefined for none, or for the JavaScript
 * predictor to run instead: the codec's WebAssembly reads 16-bit samples little-endian, so on
 * a big-endian host those stay with JavaScript.
 */
export function lzwPredictorOf(
  g: ChunkGeometry,
  littleEndianHost = HOST_LITTLE_ENDIAN,
): LzwPredictor | undefined {
  if (g.predictor !== 2 || (g.layout.depth === 16 && !littleEndianHost)) return undefined;
  const { channels, depth } = g.layout;
  return { rowBytes: chunkRowPixels(g) * channels * (depth / 8), channels, depth };
}

/**
 * Encodes one chunk (its full decoded size) like `g`, in this host's byte order (the writer
 * records little-endian). `chunk` is used as scratch when a predictor applies. The result may
 * be a view of a per-thread buffer, valid until the next call.
 */
export function encodeChunk(g: ChunkGeometry, chunk: Uint8Array): Uint8Array {
  const wide = g.layout.depth === 16;
  // LZW applies the predictor itself, to its own copy of the chunk.
  const lzwPredictor = g.compression === 5 ? lzwPredictorOf(g) : undefined;
  if (g.predictor === 2 && !lzwPredictor)
    applyHorizontal(samples(chunk, wide), chunkRowPixels(g), g.layout.channels);
  switch (g.compression) {
    case 1:
      return chunk;
    case 5:
      return encodeLzw(chunk, lzwPredictor);
    case 8:
    case 32946:
      return deflateChunkBytes(chunk, g.deflateLevel ?? DEFAULT_LEVEL);
    case 32773:
      return encodePackBits(chunk, chunkRowPixels(g) * g.layout.channels * (wide ? 2 : 1));
    case 7:
      throw new Error('JPEG chunks are encoded by encodeAnyChunk');
  }
}

/**
 * decodeChunk for every compression: JPEG is decoded by libjpeg off this thread, so awaited;
 * it decodes whole, so rows at the start of `dst` come from a decode of the full chunk.
 */
export async function decodeAnyChunk(
  g: ChunkGeometry,
  stored: Uint8Array,
  dst: Uint8Array,
  fullBytes = dst.length,
): Promise<void> {
  if (g.compression !== 7) {
    decodeChunk(g, stored, dst, fullBytes);
  } else if (dst.length >= fullBytes) {
    await decodeJpegChunk(g, stored, dst);
  } else {
    const whole = new Uint8Array(fullBytes);
    await decodeJpegChunk(g, stored, whole);
    dst.set(whole.subarray(0, dst.length));
  }
}

/** encodeChunk for every compression (JPEG awaited); `chunk` is left intact for JPEG. */
export async function encodeAnyChunk(g: ChunkGeometry, chunk: Uint8Array): Promise<Uint8Array> {
  return g.compression === 7 ? encodeJpegChunk(g, chunk) : encodeChunk(g, chunk);
}

function decompress(
  g: ChunkGeometry,
  stored: Uint8Array,
  dst: Uint8Array,
  fullBytes: number,
  lzwPredictor: LzwPredictor | undefined,
): number {
  switch (g.compression) {
    case 1: {
      const n = Math.min(stored.length, dst.length);
      dst.set(stored.subarray(0, n));
      return n;
    }
    case 5:
      return decodeLzw(stored, dst, lzwPredictor);
    case 8:
    case 32946: {
      return dst.length < fullBytes
        ? inflatePrefix(stored, dst, fullBytes)
        : inflateChunkBytes(stored, dst);
    }
    case 32773:
      return decodePackBits(stored, dst);
    case 7:
      throw new Error('JPEG chunks are decoded by decodeAnyChunk');
  }
}

function samples(bytes: Uint8Array, wide: boolean): Uint8Array | Uint16Array {
  return wide ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1) : bytes;
}

function corrupt(why: string): HisteqError {
  return new HisteqError(
    'BAD_INPUT',
    `The TIFF's compressed data is corrupt (${why.slice(0, 120)}); check the file and upload it again.`,
  );
}
