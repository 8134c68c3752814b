/**
 * Serializes one little-endian TIFF directory, classic or BigTIFF: the header, the entries in
 * tag order, and the values that do not fit in an entry, followed by room for the image data.
 */

export type EntryType = 3 | 4 | 5 | 7 | 16; // SHORT, LONG, RATIONAL, UNDEFINED, LONG8

export interface TiffEntry {
  tag: number;
  type: EntryType;
  /** Numbers (a RATIONAL as numerator, denominator pairs), or the bytes of an UNDEFINED. */
  values: readonly number[] | Uint8Array;
}

const VALUE_BYTES: Record<EntryType, number> = { 3: 2, 4: 4, 5: 4, 7: 1, 16: 8 };
/** Where the image data starts is aligned like this (cheap, and kind to readers that mmap). */
const DATA_ALIGNMENT = 16;

const count = (e: TiffEntry) => (e.type === 5 ? e.values.length / 2 : e.values.length);
const valueBytes = (e: TiffEntry) => VALUE_BYTES[e.type] * e.values.length;

/** Bytes from the start of the file to the image data, for these entries. */
export function dataStart(entries: readonly TiffEntry[], big: boolean): number {
  const inline = big ? 8 : 4;
  const header = big ? 16 : 8;
  const ifd = (big ? 8 : 2) + entries.length * (big ? 20 : 12) + (big ? 8 : 4);
  const external = entries.reduce((n, e) => {
    const bytes = valueBytes(e);
    return n + (bytes > inline ? bytes + (bytes & 1) : 0);
  }, 0);
  return Math.ceil((header + ifd + external) / DATA_ALIGNMENT) * DATA_ALIGNMENT;
}

/** The file's first `dataStart(entries, big)` bytes: header, directory, external values. */
export function tiffHead(entries: readonly TiffEntry[], big: boolean): Buffer {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const head = Buffer.alloc(dataStart(sorted, big));
  const inline = big ? 8 : 4;
  head.write('II', 0, 'latin1');
  head.writeUInt16LE(big ? 43 : 42, 2);
  const ifdAt = big ? 16 : 8;
  if (big) {
    head.writeUInt16LE(8, 4);
    head.writeBigUInt64LE(BigInt(ifdAt), 8);
  } else {
    head.writeUInt32LE(ifdAt, 4);
  }
  let at = ifdAt;
  const writeCount = (n: number, where: number) =>
    big ? head.writeBigUInt64LE(BigInt(n), where) : head.writeUInt32LE(n, where);
  if (big) head.writeBigUInt64LE(BigInt(sorted.length), at);
  else head.writeUInt16LE(sorted.length, at);
  at += big ? 8 : 2;
  let external = at + sorted.length * (big ? 20 : 12) + (big ? 8 : 4);
  for (const e of sorted) {
    head.writeUInt16LE(e.tag, at);
    head.writeUInt16LE(e.type, at + 2);
    writeCount(count(e), at + 4);
    const valueAt = at + 4 + (big ? 8 : 4);
    const bytes = valueBytes(e);
    let where = valueAt;
    if (bytes > inline) {
      writeCount(external, valueAt);
      where = external;
      external += bytes + (bytes & 1); // values start on a word boundary
    }
    writeValues(head, e, where);
    at += big ? 20 : 12;
  }
  writeCount(0, at); // no next directory
  return head;
}

function writeValues(head: Buffer, e: TiffEntry, at: number): void {
  if (e.type === 7) {
    head.set(e.values as Uint8Array, at);
    return;
  }
  const size = VALUE_BYTES[e.type];
  e.values.forEach((v, i) => {
    const where = at + i * size;
    if (size === 2) head.writeUInt16LE(v, where);
    else if (size === 4) head.writeUInt32LE(v, where);
    else head.writeBigUInt64LE(BigInt(v), where);
  });
}
