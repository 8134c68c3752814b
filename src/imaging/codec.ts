import { atomically } from '../common/atomic-file.js';
import type SharpFactory from 'sharp';
import type { Sharp } from 'sharp';
import { HisteqError } from '../common/errors.js';
import type { ImageInfo } from './image-info.js';
import { truncationOf } from './truncation.js';
import { imageBytes, type PixelLayout } from './types.js';

/**
 * sharp (libvips) takes ~170 ms to load, more than equalizing a raw 64-megapixel TIFF: it is
 * loaded on first use only, so the raw path never pays for it.
 */
let sharpModule: Promise<typeof SharpFactory> | undefined;
export function loadSharp(): Promise<typeof SharpFactory> {
  sharpModule ??= import('sharp').then(({ default: sharp }) => {
    // Process-wide: a cached decode of a path that was since rewritten would be stale.
    sharp.cache(false);
    return sharp;
  });
  return sharpModule;
}

/**
 * Decodes the page to interleaved raw samples with the real channel count and bit depth.
 * sharp's default output is 8-bit sRGB, so the colourspace is pinned explicitly; a decode
 * error becomes a BAD_INPUT sentence that says whether the file is truncated or corrupt.
 */
export async function decodeImage(path: string, info: ImageInfo): Promise<Uint8Array> {
  const { layout } = info;
  const greyAlpha8 = layout.channels === 2 && layout.depth === 8;
  const sharp = await loadSharp();
  let data: Buffer;
  try {
    // 'b-w' drops alpha, so 8-bit grey+alpha is read as RGBA (lossless) and compacted below.
    const image = sharp(path, { page: info.page, failOn: 'truncated', limitInputPixels: false });
    if (!greyAlpha8) image.toColourspace(colourspaceOf(layout));
    data = await image.raw({ depth: layout.depth === 16 ? 'ushort' : 'uchar' }).toBuffer();
  } catch (err) {
    throw (
      (await truncationOf(path, info.format, info.fileBytes, err)) ??
      new HisteqError('BAD_INPUT', `The image data is corrupt${reason(err)}.`)
    );
  }
  const pixels = greyAlpha8
    ? compactGreyAlpha(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (pixels.byteLength !== imageBytes(layout)) {
    throw new HisteqError('BAD_INPUT', 'The decoded image does not match its header.');
  }
  return pixels;
}

/**
 * Encodes raw samples in the input's format, size and bit depth (TIFF keeps its compression and
 * predictor) and publishes the file atomically: written to a temporary name, then renamed.
 */
export async function encodeImage(
  pixels: Uint8Array,
  info: ImageInfo,
  outPath: string,
): Promise<void> {
  const { layout } = info;
  const input =
    layout.depth === 16
      ? new Uint16Array(pixels.buffer, pixels.byteOffset, pixels.byteLength >> 1)
      : pixels;
  const sharp = await loadSharp();
  const image = sharp(input, {
    raw: { width: layout.width, height: layout.height, channels: layout.channels },
    limitInputPixels: false,
  }).toColourspace(colourspaceOf(layout));
  if (info.format === 'tiff') {
    const tags = info.tiff ?? { compression: 'none', predictor: 'none', tiled: false };
    image.tiff({
      compression: tags.compression,
      predictor: tags.compression === 'none' ? 'none' : tags.predictor,
      tile: tags.tiled,
      ...(tags.compression === 'jpeg' ? { quality: 95 } : {}),
    });
  } else if (info.format === 'png') {
    image.png({ compressionLevel: 6, adaptiveFiltering: true });
  } else {
    image.jpeg({ quality: 95, chromaSubsampling: '4:4:4' });
  }
  await toFileAtomic(image, outPath);
}

/** An 8-bit preview as PNG, published atomically like every shared file. */
export async function encodePreview(
  pixels: Uint8Array,
  layout: PixelLayout,
  outPath: string,
): Promise<void> {
  const sharp = await loadSharp();
  const image = sharp(pixels, {
    raw: { width: layout.width, height: layout.height, channels: layout.channels },
  })
    .toColourspace(colourspaceOf(layout))
    .png({ compressionLevel: 2 }); // previews: speed over size
  await toFileAtomic(image, outPath);
}

async function toFileAtomic(image: Sharp, outPath: string): Promise<void> {
  await atomically(outPath, (tmp) => image.toFile(tmp));
}

function colourspaceOf(layout: PixelLayout): string {
  if (layout.channels <= 2) return layout.depth === 16 ? 'grey16' : 'b-w';
  return layout.depth === 16 ? 'rgb16' : 'srgb';
}

function compactGreyAlpha(rgba: Buffer): Uint8Array {
  const out = new Uint8Array(rgba.byteLength / 2);
  for (let i = 0, o = 0; i < rgba.byteLength; i += 4, o += 2) {
    out[o] = rgba[i];
    out[o + 1] = rgba[i + 3];
  }
  return out;
}

/** A short, path-free reason from a sharp/libvips error, for the user's sentence. */
export function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text
    .split('\n')[0]
    .replace(/\/[^\s:]+/g, '')
    .trim();
  return line ? ` (${line.slice(0, 120)})` : '';
}
