import { atomically } from '../common/atomic-file.js';
import { open, stat } from 'node:fs/promises';
import type SharpFactory from 'sharp';
import type { Metadata, Sharp } from 'sharp';
import { HisteqError } from '../common/errors.js';
import { rawPixelsOf, tiffDataEnd } from './raw-tiff.js';
import { readTiffIfd } from './tiff-ifd.js';
import type { ChunkGeometry } from './tiff-codec/geometry.js';
import { codecPageOf } from './tiff-codec/page.js';
import { tiffTagsOf, type TiffTags } from './tiff-tags.js';
import { endsAfterFile, pngEndsEarly, truncatedFile, truncationOf } from './truncation.js';
import { imageBytes, type PixelLayout } from './types.js';

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

export interface ProbeOptions {
  page?: number;
  /** Refuse images with more pixels than this, from the header alone (pixel bombs). */
  maxPixels: number;
  /**
   * Refuse an image that must be staged (PNG, JPEG, a TIFF page the tasks cannot read band by
   * band) when its decoded samples
   * would take more bytes than this, from the header alone: a small file can claim a large
   * 16-bit RGBA page within the pixel limit. Default DEFAULT_MAX_DECODED_BYTES.
   */
  maxDecodedBytes?: number;
}

/** 256 MiB: an 8-bit grey image at the default pixel limit still fits. */
export const DEFAULT_MAX_DECODED_BYTES = 256 * 1024 * 1024;

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

const SIGNATURES: { format: ImageFormat | string; bytes: number[] }[] = [
  { format: 'tiff', bytes: [0x49, 0x49, 0x2a, 0x00] },
  { format: 'tiff', bytes: [0x4d, 0x4d, 0x00, 0x2a] },
  { format: 'tiff', bytes: [0x49, 0x49, 0x2b, 0x00] }, // BigTIFF
  { format: 'tiff', bytes: [0x4d, 0x4d, 0x00, 0x2b] },
  { format: 'png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { format: 'jpeg', bytes: [0xff, 0xd8, 0xff] },
  { format: 'GIF', bytes: [0x47, 0x49, 0x46, 0x38] },
  { format: 'BMP', bytes: [0x42, 0x4d] },
  { format: 'WebP', bytes: [0x52, 0x49, 0x46, 0x46] },
];

const SUPPORTED = 'TIFF, PNG or JPEG';

/** Decides the format from the content (never the name) and reads the header. */
export async function probeImage(path: string, options: ProbeOptions): Promise<ImageInfo> {
  const page = options.page ?? 0;
  if (!Number.isInteger(page) || page < 0) {
    throw new HisteqError('BAD_INPUT', `Page must be a whole number from 0, not ${page}.`);
  }
  const fileBytes = (await stat(path)).size;
  if (fileBytes === 0) throw new HisteqError('BAD_INPUT', 'The file is empty (0 bytes).');
  const format = await sniffFormat(path);
  if (format === undefined) {
    throw new HisteqError('UNSUPPORTED_FORMAT', `This file is not a ${SUPPORTED} image.`);
  }
  if (format !== 'tiff' && format !== 'png' && format !== 'jpeg') {
    throw new HisteqError(
      'UNSUPPORTED_FORMAT',
      `${format} images are not supported; please upload ${SUPPORTED}.`,
    );
  }
  const ifd = format === 'tiff' ? await readTiffIfd(path, page) : null;
  if (ifd && tiffDataEnd(ifd) > fileBytes) {
    throw truncatedFile('tiff', endsAfterFile('image data', tiffDataEnd(ifd), fileBytes));
  }
  // libpng decodes a PNG cut after its last image row without a word: its chunks tell.
  const pngCut = format === 'png' ? await pngEndsEarly(path, fileBytes) : null;
  if (pngCut) throw truncatedFile('png', pngCut);
  const raw = ifd && rawPixelsOf(ifd, fileBytes);
  if (ifd && raw) {
    checkPixels(raw.layout, options.maxPixels);
    const { pages } = ifd;
    return {
      format,
      layout: raw.layout,
      page,
      pages,
      tiff: tiffTagsOf(ifd),
      rawOffset: raw.offset,
      fileBytes,
    };
  }
  const codec = ifd && codecPageOf(ifd);
  if (ifd && codec) {
    checkPixels(codec.layout, options.maxPixels);
    const { pages } = ifd;
    return { format, layout: codec.layout, page, pages, tiff: tiffTagsOf(ifd), codec, fileBytes };
  }
  const sharp = await loadSharp();
  const read = async (p: number): Promise<Metadata> => {
    try {
      return await sharp(path, { page: p, limitInputPixels: false }).metadata();
    } catch (err) {
      throw (
        (await truncationOf(path, format, fileBytes, err)) ??
        new HisteqError(
          'BAD_INPUT',
          `The ${format.toUpperCase()} header cannot be read${reason(err)}.`,
        )
      );
    }
  };
  // The page count comes from the first page; asking libvips for a missing page fails vaguely.
  const firstPage = await read(0);
  const pages = firstPage.pages ?? 1;
  if (page >= pages) {
    throw new HisteqError(
      'BAD_INPUT',
      `The image has ${pages} page${pages === 1 ? '' : 's'}; page ${page} does not exist (the first page is 0).`,
    );
  }
  const meta = page === 0 ? firstPage : await read(page);
  const width = meta.width ?? 0;
  const height = meta.pageHeight && pages > 1 ? meta.pageHeight : (meta.height ?? 0);
  if (width < 1 || height < 1) throw new HisteqError('BAD_INPUT', 'The image has no pixels.');
  checkPixels({ width, height }, options.maxPixels);
  const layout: PixelLayout = { width, height, channels: channelsOf(meta), depth: depthOf(meta) };
  checkDecodedBytes(layout, options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES);
  const tiff = ifd ? tiffTagsOf(ifd) : undefined;
  return { format, layout, page, pages, tiff, fileBytes };
}

/** Refuses pixel bombs from the header alone, before anything is decoded. */
function checkPixels({ width, height }: { width: number; height: number }, max: number): void {
  if (width * height > max) {
    throw new HisteqError(
      'TOO_MANY_PIXELS',
      `The image is ${width}×${height} (${(width * height).toLocaleString('en')} pixels), more than the limit of ${max.toLocaleString('en')} pixels (MAX_PIXELS).`,
    );
  }
}

/** Refuses decompression bombs within the pixel limit: what the decode would allocate. */
function checkDecodedBytes(layout: PixelLayout, max: number): void {
  const bytes = imageBytes(layout);
  if (bytes > max) {
    const mib = (n: number) =>
      `${(n / 1048576).toLocaleString('en', { maximumFractionDigits: 1 })} MiB`;
    throw new HisteqError(
      'TOO_MANY_BYTES',
      `The image decodes to ${mib(bytes)} (${layout.width}×${layout.height}, ${layout.channels} channel${layout.channels === 1 ? '' : 's'} of ${layout.depth} bits), more than the limit of ${mib(max)} (MAX_DECODED_BYTES).`,
    );
  }
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

async function sniffFormat(path: string): Promise<string | undefined> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(12);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    const match = SIGNATURES.find(
      (s) => bytesRead >= s.bytes.length && s.bytes.every((b, i) => head[i] === b),
    );
    if (match?.format === 'WebP' && head.toString('latin1', 8, 12) !== 'WEBP') return undefined;
    return match?.format;
  } finally {
    await file.close();
  }
}

function channelsOf(meta: Metadata): PixelLayout['channels'] {
  const space = meta.space ?? '';
  const grey = space === 'b-w' || space === 'grey16';
  const rgb = space === 'srgb' || space === 'rgb' || space === 'rgb16';
  if (!grey && !rgb) {
    throw new HisteqError(
      'UNSUPPORTED_FORMAT',
      `The ${space || 'unknown'} colour space is not supported; use grey or RGB.`,
    );
  }
  // Palette images decode to RGB(A); sharp reports their channels that way already.
  const alpha = meta.hasAlpha ? 1 : 0;
  return ((grey ? 1 : 3) + alpha) as PixelLayout['channels'];
}

function depthOf(meta: Metadata): PixelLayout['depth'] {
  if (meta.depth === 'uchar') return 8;
  if (meta.depth === 'ushort') return 16;
  throw new HisteqError(
    'UNSUPPORTED_FORMAT',
    `Samples of type ${meta.depth ?? 'unknown'} are not supported; use 8- or 16-bit unsigned integers.`,
  );
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
function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text
    .split('\n')[0]
    .replace(/\/[^\s:]+/g, '')
    .trim();
  return line ? ` (${line.slice(0, 120)})` : '';
}
