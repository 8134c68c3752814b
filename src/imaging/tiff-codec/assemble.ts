import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, renameSync, rmSync } from 'node:fs';
import { temporaryName } from '../../common/atomic-file.js';
import { readTiffIfd, type TiffIfd } from '../tiff-ifd.js';
import { growable, readExactly, writeExactly } from './file-io.js';
import { outputGeometry, type ChunkGeometry } from './geometry.js';
import { jpegEntries, jpegPhotometric } from './jpeg-page.js';
import { CHUNK_ENTRY_BYTES, codecPageOf } from './page.js';
import { dataStart, tiffHead, type TiffEntry } from './tiff-writer.js';

/** One equalized band file (band-sink.ts) and how many chunks it holds. */
export interface EncodedBandFile {
  path: string;
  chunks: number;
  /** Set: the SHA-256 the whole file must have (checked as it is copied). */
  sha256?: string;
}

const copyBuffer = growable();
/** Small enough that the hash reads what was just read while it is still in the CPU cache. */
const COPY_BYTES = 1 << 20;
const CLASSIC_LIMIT = 2 ** 32;

/**
 * Writes the result TIFF from the tasks' encoded bands: a new directory with the input page's
 * tags, then every band's chunks copied as they are. Nothing is decoded or encoded here, so the
 * cost is one sequential copy of the compressed bytes, hashed on the way for the bands that
 * give a SHA-256: what is published is then exactly what the tasks recorded, read once. BigTIFF
 * when the input is BigTIFF or a classic TIFF could not address the result. Written under a
 * temporary name and renamed, so a pod that dies half-way leaves only a temporary file, and
 * assembling again is harmless. A band that does not match its SHA-256 is listed in
 * `mismatched`, and then nothing is written (and an older `outPath` is removed).
 */
export async function assembleTiff(
  upload: string,
  page: number,
  bands: readonly EncodedBandFile[],
  outPath: string,
  /** Past this many bytes the result is written as BigTIFF (a test sets it low). */
  classicLimit = CLASSIC_LIMIT,
): Promise<{ bytes: number; mismatched: number[] }> {
  const ifd = await readTiffIfd(upload, page);
  const input = ifd && codecPageOf(ifd);
  if (!ifd || !input) throw new Error(`${upload} page ${page} is no longer a chunked TIFF page`);
  const g = outputGeometry(input);
  const read = bands.map(readCheckedTable);
  const unreadable = read.flatMap((p, i) => (p === null ? [i] : []));
  const parts = read.filter((p): p is BandTable => p !== null);
  if (unreadable.length > 0) {
    for (const p of parts) closeSync(p.fd);
    rmSync(outPath, { force: true });
    return { bytes: 0, mismatched: unreadable };
  }
  try {
    const counts = parts.flatMap((p) => p.counts);
    const dataBytes = parts.reduce((n, p) => n + p.dataBytes, 0);
    const entriesFor = (big: boolean, offsets: number[]) =>
      pageEntries(ifd, g, offsets, counts, big);
    const placeholder = new Array<number>(counts.length).fill(0);
    const big =
      ifd.bigTiff || dataStart(entriesFor(false, placeholder), false) + dataBytes >= classicLimit;
    const start = dataStart(entriesFor(big, placeholder), big);
    const offsets: number[] = [];
    let at = start;
    for (const n of counts) {
      offsets.push(at);
      at += n;
    }
    const head = tiffHead(entriesFor(big, offsets), big);
    const tmp = temporaryName(outPath);
    const out = openSync(tmp, 'w');
    try {
      writeExactly(out, head, 0);
      let position = start;
      const mismatched: number[] = [];
      for (const [index, part] of parts.entries()) {
        const expected = bands[index]!.sha256;
        const hash = expected === undefined ? null : createHash('sha256');
        for (let done = 0; done < part.dataBytes; done += COPY_BYTES) {
          const chunk = copyBuffer(Math.min(COPY_BYTES, part.dataBytes - done));
          readExactly(part.fd, chunk, done, part.path);
          hash?.update(chunk);
          writeExactly(out, chunk, position);
          position += chunk.byteLength;
        }
        if (hash && hash.update(part.table).digest('hex') !== expected) mismatched.push(index);
      }
      closeSync(out);
      if (mismatched.length > 0) {
        rmSync(tmp, { force: true });
        rmSync(outPath, { force: true });
        return { bytes: 0, mismatched };
      }
      renameSync(tmp, outPath);
      return { bytes: position, mismatched };
    } catch (err) {
      closeSync(out);
      rmSync(tmp, { force: true });
      throw err;
    }
  } finally {
    for (const p of parts) closeSync(p.fd);
  }
}

interface BandTable {
  path: string;
  fd: number;
  counts: number[];
  dataBytes: number;
  /** The table's bytes as stored: the end of the file. */
  table: Uint8Array;
}

/**
 * A band's table, or null when it does not read as one and the band has a SHA-256 to match: its
 * task wrote a table that does, so these are not the bytes it recorded.
 */
function readCheckedTable(band: EncodedBandFile): BandTable | null {
  try {
    return readBandTable(band);
  } catch (err) {
    if (band.sha256 === undefined) throw err;
    return null;
  }
}

/** A band file's chunk table (at its end), checked to describe its chunks back to back. */
function readBandTable(band: EncodedBandFile): BandTable {
  const fd = openSync(band.path, 'r');
  try {
    const size = fstatSync(fd).size;
    const tableBytes = band.chunks * CHUNK_ENTRY_BYTES;
    if (size < tableBytes) throw new Error(`${band.path} is shorter than its chunk table`);
    const raw = new Uint8Array(tableBytes);
    readExactly(fd, raw, size - tableBytes, band.path);
    const table = new Float64Array(raw.buffer);
    const counts: number[] = [];
    let expected = 0;
    for (let i = 0; i < band.chunks; i++) {
      if (table[2 * i] !== expected) throw new Error(`${band.path} has a gap before chunk ${i}`);
      counts.push(table[2 * i + 1]);
      expected += table[2 * i + 1];
    }
    if (expected !== size - tableBytes)
      throw new Error(`${band.path} does not end after its chunks`);
    return { path: band.path, fd, counts, dataBytes: expected, table: raw };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * The result page's directory: its geometry as the tasks wrote it, and the input page's
 * photometric interpretation, extra samples, sample format, resolution and ICC profile.
 */
function pageEntries(
  ifd: TiffIfd,
  g: ChunkGeometry,
  offsets: number[],
  counts: number[],
  big: boolean,
): TiffEntry[] {
  const { layout } = g;
  const long = big ? 16 : 4;
  const entries: TiffEntry[] = [
    { tag: 256, type: 4, values: [layout.width] },
    { tag: 257, type: 4, values: [layout.height] },
    { tag: 258, type: 3, values: new Array<number>(layout.channels).fill(layout.depth) },
    { tag: 259, type: 3, values: [g.compression] },
    {
      tag: 262,
      type: 3,
      values: [g.jpeg ? jpegPhotometric(layout.channels) : layout.channels >= 3 ? 2 : 1],
    },
    { tag: g.tiled ? 324 : 273, type: long, values: offsets },
    { tag: 277, type: 3, values: [layout.channels] },
    { tag: g.tiled ? 325 : 279, type: long, values: counts },
    { tag: 284, type: 3, values: [1] },
  ];
  if (g.tiled) {
    entries.push({ tag: 322, type: 4, values: [g.chunkWidth] });
    entries.push({ tag: 323, type: 4, values: [g.chunkHeight] });
  } else {
    entries.push({ tag: 278, type: 4, values: [g.chunkHeight] });
  }
  if (g.predictor === 2) entries.push({ tag: 317, type: 3, values: [2] });
  if (g.jpeg) entries.push(...jpegEntries(g.jpeg, layout.channels));
  for (const tag of [282, 283]) {
    const v = ifd.fields.get(tag);
    if (v && ifd.types.get(tag) === 5 && v.length === 2) entries.push({ tag, type: 5, values: v });
  }
  for (const tag of [296, 338, 339]) {
    const v = ifd.fields.get(tag);
    if (v && v.length > 0 && v.every((x) => x <= 0xffff)) entries.push({ tag, type: 3, values: v });
  }
  const icc = ifd.blobs.get(34675);
  if (icc && icc.length > 0) entries.push({ tag: 34675, type: 7, values: icc });
  return entries;
}
