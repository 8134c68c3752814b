import type { TiffIfd } from '../tiff-ifd.js';
import type { PixelLayout } from '../types.js';
import { jpegChunksOf } from './jpeg-page.js';
import {
  chunkRowCount,
  chunksAcross,
  TASK_COMPRESSIONS,
  type ChunkGeometry,
  type TaskCompression,
} from './geometry.js';

const COMPRESSIONS = new Set<number>(Object.values(TASK_COMPRESSIONS));
/**
 * A task holds one decoded chunk row at a time (the check holds two): a page whose strips or
 * tile rows are larger (one strip for the whole image, say) is staged instead.
 */
export const MAX_CHUNK_ROW_BYTES = 256 << 20;

/**
 * The chunk geometry of a TIFF page the tasks can decode and encode band by band, or null
 * (the page is then staged through libvips): grey, grey+alpha, RGB or RGBA; 8 or 16 unsigned
 * bits; chunky; strips or tiles; uncompressed, LZW, deflate or PackBits, with or without the
 * horizontal predictor; top-left orientation, normal fill order; one offset and byte count for
 * every chunk. JPEG at 8 bits, grey or YCbCr (jpeg-page.ts), is decoded and encoded by libjpeg;
 * zstd is refused by the probe.
 */
export function codecPageOf(ifd: TiffIfd): ChunkGeometry | null {
  const one = (tag: number, fallback?: number) => ifd.fields.get(tag)?.[0] ?? fallback;
  const width = one(256);
  const height = one(257);
  const photometric = one(262);
  const spp = one(277, 1)!;
  const bits = ifd.fields.get(258) ?? [1];
  const depth = bits[0];
  const compression = one(259, 1)!;
  const jpeg = compression === 7 ? jpegChunksOf(ifd, spp, bits[0]) : undefined;
  const colour = photometric === 1 ? 1 : photometric === 2 || jpeg ? 3 : 0;
  const predictor = one(317, 1);
  if (
    !width ||
    !height ||
    colour === 0 ||
    (spp !== colour && spp !== colour + 1) ||
    (depth !== 8 && depth !== 16) ||
    bits.length !== spp ||
    bits.some((b) => b !== depth) ||
    !COMPRESSIONS.has(compression) ||
    jpeg === null ||
    (jpeg && predictor !== 1) ||
    (predictor !== 1 && predictor !== 2) ||
    one(284, 1) !== 1 ||
    one(266, 1) !== 1 ||
    one(274, 1) !== 1 ||
    (ifd.fields.get(339) ?? [1]).some((f) => f !== 1)
  ) {
    return null;
  }
  const layout: PixelLayout = { width, height, channels: spp as PixelLayout['channels'], depth };
  const tiled = ifd.fields.has(322) || ifd.fields.has(323);
  const chunkWidth = tiled ? one(322, 0)! : width;
  const chunkHeight = tiled ? one(323, 0)! : Math.min(height, one(278, height)!);
  if (chunkWidth < 1 || chunkHeight < 1) return null;
  const across = tiled ? Math.ceil(width / chunkWidth) * chunkWidth : width;
  if (across * chunkHeight * spp * (depth / 8) > MAX_CHUNK_ROW_BYTES) return null;
  const geometry: ChunkGeometry = {
    layout,
    tiled,
    chunkWidth,
    chunkHeight,
    compression: compression as TaskCompression,
    predictor,
    littleEndian: ifd.littleEndian,
    ...(jpeg ? { jpeg } : {}),
  };
  const { offsets, counts } = chunkFields(ifd, tiled);
  const chunks = chunksAcross(geometry) * chunkRowCount(geometry);
  if (!offsets || !counts || offsets.length !== chunks || counts.length !== chunks) return null;
  return geometry;
}

function chunkFields(ifd: TiffIfd, tiled: boolean) {
  return tiled
    ? { offsets: ifd.fields.get(324), counts: ifd.fields.get(325) }
    : { offsets: ifd.fields.get(273), counts: ifd.fields.get(279) };
}

/** Bytes per entry of a chunk table: the chunk's offset and byte count, as little-endian doubles. */
export const CHUNK_ENTRY_BYTES = 16;

/**
 * The page's chunk table (chunk by chunk, row-major), written once per job so each task reads
 * only its band's entries instead of the whole directory (a gigapixel page has a million).
 */
export function chunkTableOf(ifd: TiffIfd, tiled: boolean): Uint8Array {
  const { offsets, counts } = chunkFields(ifd, tiled);
  if (!offsets || !counts) throw new Error('the page has no chunk offsets');
  const table = new Float64Array(2 * offsets.length);
  for (let i = 0; i < offsets.length; i++) {
    table[2 * i] = offsets[i];
    table[2 * i + 1] = counts[i];
  }
  return new Uint8Array(table.buffer);
}
