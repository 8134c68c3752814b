import { open, type FileHandle } from 'node:fs/promises';
import { endsAfterFile, truncatedFile } from './truncation.js';

/** One page's image file directory: its numeric fields (SHORT/LONG/BYTE values) by tag. */
export interface TiffIfd {
  littleEndian: boolean;
  /** BigTIFF (64-bit offsets) rather than classic TIFF. */
  bigTiff: boolean;
  /** Pages in the file (IFDs in the chain, walked up to a bound). */
  pages: number;
  fields: Map<number, number[]>;
}

const MAX_PAGES_WALKED = 10_000;
/** Values per field we read at most: a strip table of a 4 GB image at one row per strip fits. */
const MAX_VALUES = 1 << 20;
/** Bytes per value of every TIFF field type, to know where each field's data ends. */
const TYPE_BYTES: Record<number, number> = {
  1: 1, // BYTE
  2: 1, // ASCII
  3: 2, // SHORT
  4: 4, // LONG
  5: 8, // RATIONAL
  6: 1, // SBYTE
  7: 1, // UNDEFINED
  8: 2, // SSHORT
  9: 4, // SLONG
  10: 8, // SRATIONAL
  11: 4, // FLOAT
  12: 8, // DOUBLE
  13: 4, // IFD
  16: 8, // LONG8 (BigTIFF)
  17: 8, // SLONG8
  18: 8, // IFD8
};
/** The unsigned integer types whose values we keep. */
const KEPT = new Set([1, 3, 4, 13, 16, 18]);

/** Classic TIFF and BigTIFF differ only in the width of counts and offsets. */
interface Shape {
  /** Bytes of an IFD's entry count, of one entry, of an offset (or inline value). */
  count: number;
  entry: number;
  offset: number;
}
const CLASSIC: Shape = { count: 2, entry: 12, offset: 4 };
const BIG: Shape = { count: 8, entry: 20, offset: 8 };

/**
 * Reads one page's IFD of a classic TIFF or BigTIFF with a few positioned reads (the IFD may
 * sit after the pixels, so the file is never read whole). Only integer fields are kept: they are
 * all we need to decide how the pixels are stored. Returns null for anything that is not a
 * parseable TIFF or has no such page; the caller then asks libvips. A file that ends before a
 * directory or a field's data does is refused as truncated: libvips would only say that it
 * does not know the format.
 */
export async function readTiffIfd(path: string, page: number): Promise<TiffIfd | null> {
  const file = await open(path, 'r');
  try {
    return await parse(file, page, (await file.stat()).size);
  } finally {
    await file.close();
  }
}

async function parse(file: FileHandle, page: number, fileBytes: number): Promise<TiffIfd | null> {
  const read = async (offset: number, length: number, part: string): Promise<Buffer> => {
    if (offset + length > fileBytes) {
      throw truncatedFile('tiff', endsAfterFile(part, offset + length, fileBytes));
    }
    const buf = Buffer.alloc(length);
    await file.read(buf, 0, length, offset);
    return buf;
  };
  if (fileBytes < 8) return null;
  const header = await read(0, 8, 'header');
  const order = header.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const le = order === 'II';
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  const version = u16(header, 2);
  if (version !== 42 && version !== 43) return null;
  const big = version === 43;
  const shape = big ? BIG : CLASSIC;
  if (big && (u16(header, 4) !== 8 || u16(header, 6) !== 0)) return null;
  const uint = (b: Buffer, o: number, bytes: number) =>
    bytes === 1 ? b[o] : bytes === 2 ? u16(b, o) : bytes === 4 ? u32(b, o) : u64(b, o);
  const first = big ? u64(await read(8, 8, 'header'), 0) : u32(header, 4);

  // Walk the chain: the page's IFD offset, and how many pages there are.
  const offsets: number[] = [];
  const seen = new Set<number>();
  for (let ifd = first; ifd !== 0 && offsets.length < MAX_PAGES_WALKED;) {
    if (seen.has(ifd)) return null; // a loop in the chain: corrupt
    seen.add(ifd);
    offsets.push(ifd);
    const entries = uint(await read(ifd, shape.count, 'image directory'), 0, shape.count);
    const nextAt = ifd + shape.count + shape.entry * entries;
    ifd = uint(await read(nextAt, shape.offset, 'image directory'), 0, shape.offset);
  }
  if (page >= offsets.length) return null;

  const at = offsets[page];
  const n = uint(await read(at, shape.count, 'image directory'), 0, shape.count);
  const entries = await read(at + shape.count, shape.entry * n, 'image directory');
  const fields = new Map<number, number[]>();
  for (let i = 0; i < entries.length; i += shape.entry) {
    const tag = u16(entries, i);
    const type = u16(entries, i + 2);
    const count = uint(entries, i + 4, shape.offset);
    const size = TYPE_BYTES[type];
    if (size === undefined || count === 0) continue;
    // Values that fit in the entry sit in it (left-justified); others at an offset.
    const inline = size * count <= shape.offset;
    const valueAt = i + 4 + shape.offset;
    if (!inline) {
      const dataAt = uint(entries, valueAt, shape.offset);
      if (dataAt + size * count > fileBytes) {
        const end = dataAt + size * count;
        throw truncatedFile('tiff', endsAfterFile(`image directory (tag ${tag})`, end, fileBytes));
      }
    }
    if (!KEPT.has(type) || count > MAX_VALUES) continue;
    const data = inline
      ? entries.subarray(valueAt, valueAt + shape.offset)
      : await read(
          uint(entries, valueAt, shape.offset),
          size * count,
          `image directory (tag ${tag})`,
        );
    const values: number[] = new Array<number>(count);
    for (let v = 0; v < count; v++) values[v] = uint(data, size * v, size);
    fields.set(tag, values);
  }
  return { littleEndian: le, bigTiff: big, pages: offsets.length, fields };
}
