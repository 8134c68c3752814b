import type { ChunkGeometry } from './tiff-codec/geometry.js';
import type { TiffTags } from './tiff-tags.js';
import type { PixelLayout } from './types.js';

export type ImageFormat = 'tiff' | 'png' | 'jpeg';

/** What we need to know about an input image to split it, and to write the output like it. */
export interface ImageInfo {
  format: ImageFormat;
  layout: PixelLayout;
  /** The page being equalized (0 is the first) and how many the file has. */
  page: number;
  pages: number;
  /** TIFF only: how the page was stored, so the output is stored the same way. */
  tiff?: TiffTags;
  /**
   * TIFF only: where the page's samples start when they are stored exactly as decoded
   * (raw-tiff.ts). Tasks then read and write strips in place: no staging, no encoding.
   */
  rawOffset?: number;
  /**
   * TIFF only: how the page's strips or tiles are compressed, when the tasks can decode and
   * encode them band by band (tiff-codec/page.ts). Such a page is never staged.
   */
  codec?: ChunkGeometry;
  fileBytes: number;
}

/** True when tasks decode and encode the page's chunks themselves (see ImageInfo.codec). */
export function hasCodecPage(info: ImageInfo): info is ImageInfo & { codec: ChunkGeometry } {
  return info.format === 'tiff' && info.codec !== undefined;
}

/** True when tasks can read and write the page's samples in place (see ImageInfo.rawOffset). */
export function hasRawPixels(info: ImageInfo): info is ImageInfo & { rawOffset: number } {
  return info.format === 'tiff' && info.rawOffset !== undefined;
}
