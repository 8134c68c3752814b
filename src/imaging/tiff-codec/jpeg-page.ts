import type { TiffIfd } from '../tiff-ifd.js';
import type { TiffEntry } from './tiff-writer.js';

/** The JPEG quality of a re-encoded JPEG-compressed page, the one staging has always used. */
export const JPEG_QUALITY = 95;
/** A JPEGTables tag larger than this is not a set of tables: the page is staged instead. */
const MAX_TABLES_BYTES = 64 << 10;

/** How the chunks of a JPEG-compressed page (compression 7) are coded. */
export interface JpegChunks {
  /**
   * The page's JPEGTables (base64): the quantization and Huffman tables that its abbreviated
   * chunk streams share. Absent in the result, where every chunk is a complete stream.
   */
  tables?: string;
  /** Chroma subsampling (horizontal, vertical) of a YCbCr page; [1, 1] for grey. */
  subsampling: [number, number];
}

/**
 * The JPEG coding of a page the tasks can decode, or null (the page is then staged): 8-bit grey
 * (photometric 1) or YCbCr (6, what libtiff and libvips write for RGB) without alpha, with
 * subsampling 1 or 2 each way. RGB-coded JPEG (photometric 2) and everything else stay staged.
 */
export function jpegChunksOf(ifd: TiffIfd, channels: number, depth: number): JpegChunks | null {
  const photometric = ifd.fields.get(262)?.[0];
  const grey = photometric === 1 && channels === 1;
  const ycbcr = photometric === 6 && channels === 3;
  if (depth !== 8 || (!grey && !ycbcr)) return null;
  const tables = ifd.blobs.get(347);
  if (tables && tables.length > MAX_TABLES_BYTES) return null;
  const [h, v] = grey ? [1, 1] : (ifd.fields.get(530) ?? [2, 2]);
  if ((h !== 1 && h !== 2) || (v !== 1 && v !== 2) || v > h) return null;
  return {
    ...(tables && tables.length > 0 ? { tables: tables.toString('base64') } : {}),
    subsampling: [h, v],
  };
}

/**
 * The result's coding: complete streams (no shared tables), 4:2:0 when the input was 4:2:0 (it
 * holds no more colour detail than that, and the result stays about the input's size), else
 * 4:4:4 (the encoder offers no 4:2:2, and 4:4:4 loses nothing more).
 */
export function outputJpeg(jpeg: JpegChunks): JpegChunks {
  const [h, v] = jpeg.subsampling;
  return { subsampling: h === 2 && v === 2 ? [2, 2] : [1, 1] };
}

/** The photometric interpretation of a JPEG page: grey, or YCbCr for colour. */
export function jpegPhotometric(channels: number): number {
  return channels === 1 ? 1 : 6;
}

/** Directory entries a JPEG result needs besides the common ones: its YCbCr subsampling. */
export function jpegEntries(jpeg: JpegChunks, channels: number): TiffEntry[] {
  return channels === 1 ? [] : [{ tag: 530, type: 3, values: jpeg.subsampling }];
}
