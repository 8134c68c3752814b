import type { TiffIfd } from './tiff-ifd.js';

/** TIFF compression schemes we can write back (tag 259 values). */
export type TiffCompression = 'none' | 'lzw' | 'deflate' | 'packbits' | 'jpeg' | 'zstd' | 'webp';
export type TiffPredictor = 'none' | 'horizontal' | 'float';

export interface TiffTags {
  compression: TiffCompression;
  predictor: TiffPredictor;
  tiled: boolean;
}

const COMPRESSION: Record<number, TiffCompression> = {
  1: 'none',
  5: 'lzw',
  7: 'jpeg',
  8: 'deflate',
  32946: 'deflate',
  32773: 'packbits',
  50000: 'zstd',
  50001: 'webp',
};
const PREDICTOR: Record<number, TiffPredictor> = { 1: 'none', 2: 'horizontal', 3: 'float' };

/**
 * The compression, predictor and tiling of a page, so the output can be written the way the
 * input was (sharp's metadata does not report TIFF compression).
 */
export function tiffTagsOf(ifd: TiffIfd): TiffTags {
  const compression = ifd.fields.get(259)?.[0] ?? 1;
  const predictor = ifd.fields.get(317)?.[0] ?? 1;
  return {
    compression: COMPRESSION[compression] ?? 'deflate',
    predictor: PREDICTOR[predictor] ?? 'none',
    tiled: ifd.fields.has(322),
  };
}
