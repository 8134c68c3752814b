import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { TiffIfd } from './tiff-ifd.js';
import { imageBytes, rowBytes, type PixelLayout } from './types.js';

/**
 * Uncompressed TIFF, the common case for large scientific and print images, stores exactly the
 * samples a decoder would produce. When a page's strips lie back to back, its pixels are one
 * byte range of the file: tasks read their strips straight from the upload and write straight
 * into the result, so neither a staging decode nor a stitching encode is needed (each costs a
 * full pass over the image and a full copy on disk).
 */
export interface RawPixels {
  layout: PixelLayout;
  /** Where the page's first sample is in the file. */
  offset: number;
}

const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/**
 * The page's layout and pixel offset if its pixels can be used as they are stored, else null
 * (the page is then decoded by libvips, as any other image). Deliberately conservative: grey or
 * RGB without alpha, 8 or 16 unsigned bits, chunky, uncompressed, strips contiguous and inside
 * the file, 16-bit samples in this machine's byte order.
 */
export function rawPixelsOf(ifd: TiffIfd, fileBytes: number): RawPixels | null {
  const one = (tag: number, fallback?: number) => ifd.fields.get(tag)?.[0] ?? fallback;
  const width = one(256);
  const height = one(257);
  const photometric = one(262);
  const spp = one(277, 1);
  const bits = ifd.fields.get(258) ?? [1];
  const channels = photometric === 1 ? 1 : photometric === 2 ? 3 : 0;
  const depth = bits[0];
  if (
    !width ||
    !height ||
    channels === 0 ||
    spp !== channels ||
    (depth !== 8 && depth !== 16) ||
    bits.some((b) => b !== depth) ||
    one(259, 1) !== 1 || // compression
    one(284, 1) !== 1 || // planar configuration: chunky
    one(266, 1) !== 1 || // fill order
    one(274, 1) !== 1 || // orientation
    ifd.fields.has(322) || // tiles
    ifd.bigTiff || // the result container is a classic TIFF: keep BigTIFF on the codec path
    ifd.fields.has(338) || // extra samples
    (ifd.fields.get(339) ?? [1]).some((f) => f !== 1) || // unsigned integers
    (depth === 16 && ifd.littleEndian !== HOST_LITTLE_ENDIAN)
  ) {
    return null;
  }
  const layout: PixelLayout = { width, height, channels, depth };
  const offsets = ifd.fields.get(273);
  const counts = ifd.fields.get(279);
  if (!offsets || !counts || offsets.length !== counts.length) return null;
  let end = offsets[0];
  for (let i = 0; i < offsets.length; i++) {
    if (offsets[i] !== end) return null;
    end += counts[i];
  }
  const bytes = imageBytes(layout);
  if (end - offsets[0] !== bytes || end > fileBytes) return null;
  return { layout, offset: offsets[0] };
}

/**
 * Where the page's image data ends (its last strip or tile). libvips reads a truncated
 * uncompressed page without complaint (the missing rows come out black), so the probe compares
 * this with the file size instead.
 */
export function tiffDataEnd(ifd: TiffIfd): number {
  const offsets = ifd.fields.get(273) ?? ifd.fields.get(324) ?? [];
  const counts = ifd.fields.get(279) ?? ifd.fields.get(325) ?? [];
  let end = 0;
  for (let i = 0; i < Math.min(offsets.length, counts.length); i++) {
    end = Math.max(end, offsets[i] + counts[i]);
  }
  return end;
}

/** Strips of about this size in the TIFFs we write: small enough for any reader's buffers. */
const TARGET_STRIP_BYTES = 1 << 20;
const PIXEL_ALIGNMENT = 16;

/**
 * The header and IFD of a single-page, uncompressed, little-endian TIFF for `layout`, sized so
 * the pixels follow at `pixelOffset`: the container tasks write their equalized strips into.
 */
export function tiffContainerHeader(layout: PixelLayout): {
  header: Uint8Array;
  pixelOffset: number;
} {
  if (layout.channels !== 1 && layout.channels !== 3) {
    throw new RangeError('raw TIFF containers hold grey or RGB without alpha');
  }
  const row = rowBytes(layout);
  const rowsPerStrip = Math.max(1, Math.min(layout.height, Math.floor(TARGET_STRIP_BYTES / row)));
  const strips = Math.ceil(layout.height / rowsPerStrip);
  const spp = layout.channels;
  // [type, values] by tag, in ascending tag order as TIFF requires.
  const entries: [number, 3 | 4 | 5, number[]][] = [
    [256, 4, [layout.width]],
    [257, 4, [layout.height]],
    [258, 3, new Array<number>(spp).fill(layout.depth)],
    [259, 3, [1]],
    [262, 3, [spp === 1 ? 1 : 2]],
    [273, 4, new Array<number>(strips).fill(0)], // filled in below
    [277, 3, [spp]],
    [278, 4, [rowsPerStrip]],
    [
      279,
      4,
      Array.from(
        { length: strips },
        (_, s) => Math.min(rowsPerStrip, layout.height - s * rowsPerStrip) * row,
      ),
    ],
    [282, 5, [72, 1]],
    [283, 5, [72, 1]],
    [284, 3, [1]],
    [296, 3, [2]],
  ];
  const size = (type: number, values: number[]) => (type === 3 ? 2 : 4) * values.length;
  const ifdBytes = 2 + 12 * entries.length + 4;
  const external = entries.reduce((n, [, t, v]) => n + (size(t, v) > 4 ? size(t, v) : 0), 0);
  const pixelOffset = Math.ceil((8 + ifdBytes + external) / PIXEL_ALIGNMENT) * PIXEL_ALIGNMENT;
  const stripOffsets = entries[5][2];
  for (let s = 0; s < strips; s++) stripOffsets[s] = pixelOffset + s * rowsPerStrip * row;

  const header = Buffer.alloc(pixelOffset);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  header.writeUInt32LE(8, 4);
  header.writeUInt16LE(entries.length, 8);
  let entry = 10;
  let data = 8 + ifdBytes;
  for (const [tag, type, values] of entries) {
    header.writeUInt16LE(tag, entry);
    header.writeUInt16LE(type, entry + 2);
    // A RATIONAL is two LONGs but counts as one value.
    header.writeUInt32LE(type === 5 ? values.length / 2 : values.length, entry + 4);
    const external = size(type, values) > 4;
    let at = external ? data : entry + 8;
    if (external) header.writeUInt32LE(data, entry + 8);
    for (const v of values) {
      if (type === 3) header.writeUInt16LE(v, at);
      else header.writeUInt32LE(v, at);
      at += type === 3 ? 2 : 4;
    }
    if (external) data = at;
    entry += 12;
  }
  header.writeUInt32LE(0, entry); // no next page
  return { header, pixelOffset };
}

/**
 * Creates (or re-opens) the result container: header written, file sized to hold every pixel.
 * Never truncates below full size, so repeating it — a resumed job, or a deposed master that
 * wakes late — cannot erase strips that tasks already wrote (the header is always the same).
 */
export async function createTiffContainer(path: string, layout: PixelLayout): Promise<number> {
  const { header, pixelOffset } = tiffContainerHeader(layout);
  const file = await open(path, constants.O_CREAT | constants.O_WRONLY, 0o644);
  try {
    await file.write(header, 0, header.byteLength, 0);
    await file.truncate(pixelOffset + imageBytes(layout));
  } finally {
    await file.close();
  }
  return pixelOffset;
}
