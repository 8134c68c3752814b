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
}

const copyBuffer = growable();
const COPY_BYTES = 8 << 20;
const CLASSIC_LIMIT = 2 ** 32;

/**
 * Writes the result TIFF from the tasks' encoded bands: a new directory with the input page's
 * tags, then every band's chunks copied as they are. Nothing is decoded or encoded here, so the
 * cost is one sequential copy of the compressed bytes. BigTIFF when the input is BigTIFF or a
 * classic TIFF could not address the result. Written under a temporary name and renamed, so a
 * master that dies half-way leaves only a temporary file, and assembling again is harmless.
 */
export async function assembleTiff(
  upload: string,
  page: number,
  bands: readonly EncodedBandFile[],
  outPath: string,
): Promise<{ bytes: number }> {
  const ifd = await readTiffIfd(upload, page);
  const input = ifd && codecPageOf(ifd);
  if (!ifd || !input) throw new Error(`${upload} page ${page} is no longer a chunked TIFF page`);
  const g = outputGeometry(input);
  const parts = bands.map(readBandTable);
  try {
    const counts = parts.flatMap((p) => p.counts);
    const dataBytes = parts.reduce((n, p) => n + p.dataBytes, 0);
    const entriesFor = (big: boolean, offsets: number[]) =>
      pageEntries(ifd, g, offsets, counts, big);
    const placeholder = new Array<number>(counts.length).fill(0);
    const big =
      ifd.bigTiff || dataStart(entriesFor(false, placeholder), false) + dataBytes >= CLASSIC_LIMIT;
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
      for (const part of parts) {
        for (let done = 0; done < part.dataBytes; done += COPY_BYTES) {
          const chunk = copyBuffer(Math.min(COPY_BYTES, part.dataBytes - done));
          readExactly(part.fd, chunk, done, part.path);
          writeExactly(out, chunk, position);
          position += chunk.byteLength;
        }
      }
      closeSync(out);
      renameSync(tmp, outPath);
      return { bytes: position };
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
    return { path: band.path, fd, counts, dataBytes: expected };
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
