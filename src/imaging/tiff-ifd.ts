import { open, type FileHandle } from 'node:fs/promises';
import { HisteqError } from '../common/errors.js';

/** One page's image file directory: its numeric fields (SHORT/LONG/BYTE values) by tag. */
export interface TiffIfd {
  littleEndian: boolean;
  /** Pages in the file (IFDs in the chain, walked up to a bound). */
  pages: number;
  /** Only the tags in TIFF_TAGS_READ; every other tag is skipped without reading its values. */
  fields: Map<number, number[]>;
}

/**
 * The tags the probe decides with (raw-tiff.ts, tiff-tags.ts). Everything else — private tags
 * included — is skipped: a small file can claim millions of values per tag, all pointing at one
 * shared blob, so expanding every tag would let a 1 MB upload allocate gigabytes.
 */
export const TIFF_TAGS_READ: ReadonlySet<number> = new Set([
  256, 257, 258, 259, 262, 266, 273, 274, 277, 278, 279, 284, 317, 322, 323, 324, 325, 338, 339,
]);

const MAX_PAGES_WALKED = 10_000;
/**
 * Values kept per directory across the tags read: the strip offsets and byte counts of a 4 GB
 * image at one row per strip fit (2 × 1 M), and the arrays stay in the tens of MB at worst.
 */
export const MAX_VALUES_PER_IFD = 2 << 20;
/** Bytes one probe may read from the file (chain walk, entry table and values together). */
export const MAX_PROBE_BYTES = 32 << 20;
const SIZE: Record<number, number> = { 1: 1, 3: 2, 4: 4 };

/**
 * Reads one page's IFD of a classic TIFF with a few positioned reads (the IFD may sit after the
 * pixels, so the file is never read whole). Only integer fields of the tags we need are kept.
 * Returns null for anything that is not a parseable classic TIFF (BigTIFF included) or has no
 * such page; the caller then asks libvips. A directory past the bounds above is refused.
 */
export async function readTiffIfd(path: string, page: number): Promise<TiffIfd | null> {
  const file = await open(path, 'r');
  try {
    return await parse(file, page);
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

async function parse(file: FileHandle, page: number): Promise<TiffIfd | null> {
  let budget = MAX_PROBE_BYTES;
  const read = async (offset: number, length: number): Promise<Buffer | null> => {
    budget -= length;
    if (budget < 0) throw tooBig(`more than ${MAX_PROBE_BYTES >> 20} MiB of tag data`);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await file.read(buf, 0, length, offset);
    return bytesRead === length ? buf : null;
  };
  const header = await read(0, 8);
  if (!header) return null;
  const order = header.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const le = order === 'II';
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  if (u16(header, 2) !== 42) return null;

  // Walk the chain: the page's IFD offset, and how many pages there are.
  const offsets: number[] = [];
  const seen = new Set<number>();
  for (let ifd = u32(header, 4); ifd !== 0 && offsets.length < MAX_PAGES_WALKED;) {
    if (seen.has(ifd)) return null; // a loop in the chain: corrupt
    seen.add(ifd);
    offsets.push(ifd);
    const count = await read(ifd, 2);
    const next = count && (await read(ifd + 2 + 12 * u16(count, 0), 4));
    if (!next) return null;
    ifd = u32(next, 0);
  }
  if (page >= offsets.length) return null;

  const countBuf = await read(offsets[page], 2);
  const entries = countBuf && (await read(offsets[page] + 2, 12 * u16(countBuf, 0)));
  if (!entries) return null;
  const fields = new Map<number, number[]>();
  let values = 0;
  for (let i = 0; i < entries.length; i += 12) {
    const tag = u16(entries, i);
    // The first entry of a tag wins, as in libtiff; duplicates cannot make us read twice.
    if (!TIFF_TAGS_READ.has(tag) || fields.has(tag)) continue;
    const type = u16(entries, i + 2);
    const count = u32(entries, i + 4);
    const size = SIZE[type];
    if (size === undefined || count === 0) continue;
    values += count;
    if (values > MAX_VALUES_PER_IFD) {
      throw tooBig(`more than ${MAX_VALUES_PER_IFD.toLocaleString('en')} values`);
    }
    // Values that fit in 4 bytes sit in the entry itself (left-justified); others at an offset.
    const data =
      size * count <= 4
        ? entries.subarray(i + 8, i + 12)
        : await read(u32(entries, i + 8), size * count);
    if (!data) return null;
    const list: number[] = new Array<number>(count);
    for (let v = 0; v < count; v++) {
      list[v] = size === 1 ? data[v] : size === 2 ? u16(data, 2 * v) : u32(data, 4 * v);
    }
    fields.set(tag, list);
  }
  return { littleEndian: le, pages: offsets.length, fields };
}
