import { createHash } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync } from 'node:fs';
import { temporaryName } from '../../common/atomic-file.js';
import { rowBytes } from '../types.js';
import { encodeAnyChunk } from './chunk-codec.js';
import { growable, writeExactly } from './file-io.js';
import {
  chunksAcross,
  chunkBytes,
  pixelBytes,
  rowsInChunkRow,
  type ChunkGeometry,
} from './geometry.js';

const pendingBuffer = growable();
const chunkBuffer = growable();

/** Where a band's rows go, in order: `at` is the rows' byte offset inside the band. */
export interface RowSink {
  write(bytes: Uint8Array, at: number): Promise<void>;
  /** Returns the SHA-256 of the file as written. */
  finish(): Promise<string>;
  discard(): Promise<void>;
}

/**
 * A band file of encoded chunks: rows arrive in order (any number at a time), and each chunk row
 * (a strip, or a row of tiles, edge tiles padded with zeros) is encoded like `g` as soon as it
 * is complete, so memory is one chunk row whatever the band's size. The file is the chunks back
 * to back, then the band's chunk table (page.ts format, offsets into this file), written under
 * a temporary name and renamed by `finish`.
 */
export function encodedBandSink(
  path: string,
  g: ChunkGeometry,
  top: number,
  rows: number,
): RowSink {
  const tmp = temporaryName(path);
  const fd = openSync(tmp, 'w');
  const hash = createHash('sha256');
  const row = rowBytes(g.layout);
  const across = chunksAcross(g);
  const firstChunkRow = top / g.chunkHeight;
  const table: number[] = [];
  let position = 0; // bytes written to the file
  let received = 0; // band bytes received
  let chunkRow = firstChunkRow;
  let filled = 0; // bytes of the current chunk row held in `pending`
  const needed = () => rowsInChunkRow(g, chunkRow) * row;
  const pending = pendingBuffer(g.chunkHeight * row);

  const put = (data: Uint8Array) => {
    hash.update(data);
    writeExactly(fd, data, position);
    position += data.byteLength;
  };
  const encodeRow = async (rowsOfChunk: Uint8Array) => {
    for (let c = 0; c < across; c++) {
      const chunk = g.tiled
        ? tileOut(rowsOfChunk, g, c)
        : g.predictor === 2
          ? copyOf(rowsOfChunk) // the predictor works in place; the caller's rows stay intact
          : rowsOfChunk;
      const encoded = await encodeAnyChunk(g, chunk);
      table.push(position, encoded.byteLength);
      put(encoded);
    }
    chunkRow++;
  };

  return {
    write: async (bytes, at) => {
      if (at !== received) throw new Error(`band rows arrived out of order (${at}, ${received})`);
      received += bytes.byteLength;
      let i = 0;
      while (i < bytes.byteLength) {
        const need = needed();
        if (filled === 0 && bytes.byteLength - i >= need) {
          await encodeRow(bytes.subarray(i, i + need));
          i += need;
          continue;
        }
        const take = Math.min(need - filled, bytes.byteLength - i);
        pending.set(bytes.subarray(i, i + take), filled);
        filled += take;
        i += take;
        if (filled === need) {
          await encodeRow(pending.subarray(0, need));
          filled = 0;
        }
      }
    },
    finish: async () => {
      if (received !== rows * row || filled !== 0) {
        throw new Error(`the band received ${received} of its ${rows * row} bytes`);
      }
      put(new Uint8Array(new Float64Array(table).buffer));
      closeSync(fd);
      renameSync(tmp, path);
      return hash.digest('hex');
    },
    discard: async () => {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      rmSync(tmp, { force: true });
    },
  };
}

function copyOf(bytes: Uint8Array): Uint8Array {
  const copy = chunkBuffer(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/** Tile `c` of a chunk row's rows, padded with zeros past the image's right and bottom edges. */
export function tileOut(rowsOfChunk: Uint8Array, g: ChunkGeometry, c: number): Uint8Array {
  const tile = chunkBuffer(chunkBytes(g, 0));
  const px = pixelBytes(g.layout);
  const tileRow = g.chunkWidth * px;
  const row = rowBytes(g.layout);
  const x = c * tileRow;
  const bytes = Math.min(tileRow, row - x);
  const rows = rowsOfChunk.byteLength / row;
  if (bytes < tileRow || rows < g.chunkHeight) tile.fill(0);
  for (let y = 0; y < rows; y++) {
    tile.set(rowsOfChunk.subarray(y * row + x, y * row + x + bytes), y * tileRow);
  }
  return tile;
}
