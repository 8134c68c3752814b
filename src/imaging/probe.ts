import { open, stat } from 'node:fs/promises';
import type { Metadata } from 'sharp';
import { HisteqError } from '../common/errors.js';
import { loadSharp, reason } from './codec.js';
import type { ImageFormat, ImageInfo } from './image-info.js';
import { rawPixelsOf, tiffDataEnd } from './raw-tiff.js';
import { readTiffIfd } from './tiff-ifd.js';
import { deflateLevelOf } from './tiff-codec/deflate-level.js';
import { codecPageOf } from './tiff-codec/page.js';
import { tiffTagsOf } from './tiff-tags.js';
import { endsAfterFile, pngEndsEarly, truncatedFile, truncationOf } from './truncation.js';
import { imageBytes, type PixelLayout } from './types.js';

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
/** TIFF compression tag value of zstd. */
const ZSTD = 50000;

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
  if (ifd?.fields.get(259)?.[0] === ZSTD) {
    // libvips here has no zstd codec: it would "decode" such a page to zeros with a warning.
    throw new HisteqError(
      'UNSUPPORTED_FORMAT',
      'zstd-compressed TIFFs cannot be read here; convert the file to LZW or deflate (for example with tiffcp -c lzw) and upload it again.',
    );
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
  const chunked = ifd && codecPageOf(ifd);
  const codec =
    chunked && (chunked.compression === 8 || chunked.compression === 32946)
      ? { ...chunked, deflateLevel: await deflateLevelOf(path, ifd, chunked.tiled) }
      : chunked;
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
