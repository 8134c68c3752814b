import { open, type FileHandle } from 'node:fs/promises';
import { HisteqError } from '../common/errors.js';
import { endsAfterFile, truncatedFile } from './truncation.js';

/** One page's image file directory: its numeric fields (SHORT/LONG/BYTE values) by tag. */
export interface TiffIfd {
  littleEndian: boolean;
  /** BigTIFF (64-bit offsets) rather than classic TIFF. */
  bigTiff: boolean;
  /** Pages in the file (IFDs in the chain, walked up to a bound). */
  pages: number;
  /**
   * Only the tags in TIFF_TAGS_READ; every other tag is skipped without reading its values. A
   * RATIONAL is two values (numerator, denominator).
   */
  fields: Map<number, number[]>;
  /** The field type of each tag in `fields` (a writer copying a tag keeps its type). */
  types: Map<number, number>;
  /** UNDEFINED-typed tags among TIFF_TAGS_READ (the ICC profile), as their bytes. */
  blobs: Map<number, Buffer>;
}

/**
 * The tags the probe decides with (raw-tiff.ts, tiff-tags.ts). Everything else — private tags
 * included — is skipped: a small file can claim millions of values per tag, all pointing at one
 * shared blob, so expanding every tag would let a 1 MB upload allocate gigabytes.
 */
export const TIFF_TAGS_READ: ReadonlySet<number> = new Set([
  256, 257, 258, 259, 262, 266, 273, 274, 277, 278, 279, 282, 283, 284, 296, 317, 322, 323, 324,
  325, 338, 339, 347, 530, 34675,
]);

const MAX_PAGES_WALKED = 10_000;
/**
 * Values kept per directory across the tags read: the strip offsets and byte counts of a 4 GB
 * image at one row per strip fit (2 × 1 M), and the arrays stay in the tens of MB at worst.
 */
export const MAX_VALUES_PER_IFD = 2 << 20;
/** Bytes one probe may read from the file (chain walk, entry table and values together). */
export const MAX_PROBE_BYTES = 32 << 20;
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
/** The unsigned integer types whose values we keep (RATIONAL as two LONGs, UNDEFINED as bytes). */
const KEPT = new Set([1, 3, 4, 5, 7, 13, 16, 18]);
const RATIONAL = 5;
const UNDEFINED = 7;

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

function tooBig(what: string): HisteqError {
  return new HisteqError(
    'BAD_INPUT',
    `The TIFF file's directory is too large to read safely (${what}); save it without extra metadata and retry.`,
  );
}

async function parse(file: FileHandle, page: number, fileBytes: number): Promise<TiffIfd | null> {
  let budget = MAX_PROBE_BYTES;
  const read = async (offset: number, length: number, part: string): Promise<Buffer> => {
    if (offset + length > fileBytes) {
      throw truncatedFile('tiff', endsAfterFile(part, offset + length, fileBytes));
    }
    budget -= length;
    if (budget < 0) throw tooBig(`more than ${MAX_PROBE_BYTES >> 20} MiB of tag data`);
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
  const types = new Map<number, number>();
  const blobs = new Map<number, Buffer>();
  let kept = 0;
  for (let i = 0; i < entries.length; i += shape.entry) {
    const tag = u16(entries, i);
    const type = u16(entries, i + 2);
    const count = uint(entries, i + 4, shape.offset);
    const size = TYPE_BYTES[type];
    if (size === undefined || count === 0) continue;
    // The first entry of a tag wins, as in libtiff; duplicates cannot make us read twice.
    const needed = TIFF_TAGS_READ.has(tag) && !fields.has(tag) && !blobs.has(tag) && KEPT.has(type);
    if (needed && type !== UNDEFINED) {
      kept += count;
      if (kept > MAX_VALUES_PER_IFD) {
        throw tooBig(`more than ${MAX_VALUES_PER_IFD.toLocaleString('en')} values`);
      }
    }
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
    if (!needed) continue;
    const data = inline
      ? entries.subarray(valueAt, valueAt + shape.offset)
      : await read(
          uint(entries, valueAt, shape.offset),
          size * count,
          `image directory (tag ${tag})`,
        );
    if (type === UNDEFINED) {
      blobs.set(tag, Buffer.from(data.subarray(0, count)));
      continue;
    }
    const width = type === RATIONAL ? 4 : size;
    const n = type === RATIONAL ? 2 * count : count;
    const values: number[] = new Array<number>(n);
    for (let v = 0; v < n; v++) values[v] = uint(data, width * v, width);
    fields.set(tag, values);
    types.set(tag, type);
  }
  return { littleEndian: le, bigTiff: big, pages: offsets.length, fields, types, blobs };
}
