import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';
import type { ChunkGeometry } from '../../src/imaging/tiff-codec/geometry.js';
import { chunkTableOf, codecPageOf } from '../../src/imaging/tiff-codec/page.js';
import { readTiffIfd } from '../../src/imaging/tiff-ifd.js';
import type { RawImage } from './oracle.js';

/**
 * A minimal TIFF writer for layouts sharp does not write: BigTIFF, strips stored in reverse
 * file order, any rows per strip. Deflate comes straight from zlib, not from the project's
 * codecs; every file it writes is checked to decode (with sharp) to the image it was given.
 * `encode` instead stores each strip as the given encoder makes it (the project's codecs, to be
 * read back by libtiff).
 */
export async function writeOddTiff(
  image: RawImage,
  path: string,
  options: {
    bigTiff: boolean;
    reversed: boolean;
    rowsPerStrip: number;
    bigEndian?: boolean;
    /** zlib level (default zlib's 6). */
    level?: number;
    /** Each strip's stored bytes from its samples (in the file's byte order), and its tags. */
    encode?: { compression: number; predictor: 1 | 2; strip: (raw: Uint8Array) => Uint8Array };
  },
): Promise<void> {
  const le = !options.bigEndian;
  const { width, height, channels, depth } = image;
  const bytes = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const row = width * channels * (depth / 8);
  const strips: Buffer[] = [];
  for (let top = 0; top < height; top += options.rowsPerStrip) {
    const raw = Buffer.from(
      bytes.subarray(top * row, Math.min(height, top + options.rowsPerStrip) * row),
    );
    if (depth === 16 && !le) raw.swap16();
    strips.push(
      options.encode
        ? Buffer.from(options.encode.strip(raw))
        : deflateSync(raw, { level: options.level ?? 6 }),
    );
  }
  const big = options.bigTiff;
  const header = big ? 16 : 8;
  const order = strips.map((_, i) => i);
  if (options.reversed) order.reverse();
  const offsets = new Array<number>(strips.length);
  let at = header;
  for (const i of order) {
    offsets[i] = at;
    at += strips[i].length;
  }
  const ifdAt = at + (at & 1);
  // tag, type (3 SHORT, 4 LONG, 16 LONG8), values
  const long = big ? 16 : 4;
  const entries: [number, number, number[]][] = [
    [256, 4, [width]],
    [257, 4, [height]],
    [258, 3, new Array<number>(channels).fill(depth)],
    [259, 3, [options.encode?.compression ?? 8]],
    [262, 3, [channels >= 3 ? 2 : 1]],
    [273, long, offsets],
    [277, 3, [channels]],
    [278, 4, [options.rowsPerStrip]],
    [279, long, strips.map((s) => s.length)],
    [284, 3, [1]],
  ];
  if (options.encode?.predictor === 2) entries.push([317, 3, [2]]);
  if (channels === 2 || channels === 4) entries.push([338, 3, [2]]);
  const size = (type: number) => (type === 3 ? 2 : type === 4 ? 4 : 8);
  const inline = big ? 8 : 4;
  const entryBytes = big ? 20 : 12;
  const ifdBytes = (big ? 8 : 2) + entries.length * entryBytes + (big ? 8 : 4);
  const external = entries.reduce(
    (n, [, t, v]) => n + (size(t) * v.length > inline ? size(t) * v.length : 0),
    0,
  );
  const out = Buffer.alloc(ifdAt + ifdBytes + external);
  const u16 = (v: number, o: number) => (le ? out.writeUInt16LE(v, o) : out.writeUInt16BE(v, o));
  const u32 = (v: number, o: number) => (le ? out.writeUInt32LE(v, o) : out.writeUInt32BE(v, o));
  const u64 = (v: number, o: number) =>
    le ? out.writeBigUInt64LE(BigInt(v), o) : out.writeBigUInt64BE(BigInt(v), o);
  const uint = (v: number, o: number, bytes: number) =>
    bytes === 2 ? u16(v, o) : bytes === 4 ? u32(v, o) : u64(v, o);
  out.write(le ? 'II' : 'MM', 0, 'latin1');
  u16(big ? 43 : 42, 2);
  if (big) {
    u16(8, 4);
    u16(0, 6);
    u64(ifdAt, 8);
  } else {
    u32(ifdAt, 4);
  }
  for (const i of order) strips[i].copy(out, offsets[i]);
  uint(entries.length, ifdAt, big ? 8 : 2);
  let e = ifdAt + (big ? 8 : 2);
  let data = ifdAt + ifdBytes;
  for (const [tag, type, values] of entries) {
    u16(tag, e);
    u16(type, e + 2);
    uint(values.length, e + 4, inline);
    const bytesOfValues = size(type) * values.length;
    let where = e + 4 + inline;
    if (bytesOfValues > inline) {
      uint(data, where, inline);
      where = data;
      data += bytesOfValues;
    }
    values.forEach((v, k) => uint(v, where + k * size(type), size(type)));
    e += entryBytes;
  }
  uint(0, e, inline);
  await writeFile(path, out);
}

/**
 * Writes the chunk table of page `page` of `path` (where each chunk is and how long) to `table`,
 * as the master does for a job's tasks, and returns the page's chunk geometry.
 */
export async function writeChunkTable(
  path: string,
  page = 0,
  table = `${path}.chunks`,
): Promise<{ table: string; geometry: ChunkGeometry }> {
  const ifd = await readTiffIfd(path, page);
  const geometry = ifd && codecPageOf(ifd);
  assert.ok(ifd && geometry, `page ${page} of ${path} is a chunked page`);
  await writeFile(table, chunkTableOf(ifd, geometry.tiled));
  return { table, geometry };
}
