import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { temporaryName, writeFileAtomic } from '../common/atomic-file.js';
import { sampleRow, type PreviewPlan } from '../imaging/preview.js';
import { stripOffsets } from '../imaging/strips.js';
import { imageBytes, rowBytes, type PixelLayout } from '../imaging/types.js';
import { throwIfCancelled, type CancelFlag } from './cancel-flag.js';
import { forEachDecodedChunk } from '../imaging/tiff-codec/band-reader.js';
import { growable } from '../imaging/tiff-codec/file-io.js';
import type { StripRef } from './protocol.js';

/**
 * Reads strip files (in order) straight into one image buffer, after checking that their sizes
 * tile the image; with `checksums`, each strip must match the SHA-256 its task recorded.
 */
export async function readStripsInto(
  paths: readonly string[],
  layout: PixelLayout,
  checksums?: readonly string[],
): Promise<Uint8Array> {
  const sizes = await Promise.all(paths.map(async (p) => (await stat(p)).size));
  const offsets = stripOffsets(layout, sizes);
  const image = new Uint8Array(imageBytes(layout));
  await Promise.all(
    paths.map(async (path, i) => {
      const part = image.subarray(offsets[i], offsets[i] + sizes[i]);
      await readFully(path, part, 0);
      if (checksums && sha256(part) !== checksums[i]) {
        throw new Error(`strip ${i} does not match the checksum its task recorded`);
      }
    }),
  );
  return image;
}

/** Chunks of whole rows of about this size: cache- and page-friendly whatever the strip size. */
const CHUNK_BYTES = 4 << 20;

/**
 * One buffer per pool thread, reused by every request (piscina runs one request at a time per
 * thread). Reuse matters more than it looks: a fresh 13 MB buffer per task costs thousands of
 * first-touch page faults — slow in a VM — before the first pixel is read, and a worker's
 * memory stays at a few megabytes whatever the strip size.
 */
let scratch: Uint8Array | undefined;

function scratchBuffer(bytes: number): Uint8Array {
  if (!scratch || scratch.byteLength < bytes) scratch = new Uint8Array(bytes);
  return scratch.subarray(0, bytes);
}

/**
 * Visits a strip chunk by chunk (whole rows, so no pixel is split), each read into the thread's
 * reused buffer; `at` is the chunk's byte offset inside the strip. A band of a chunked TIFF page
 * is decoded as it is visited (tiff-codec/band-reader.ts): the kernels never know which it was.
 * A raised `cancel` flag stops the visit before the next chunk (CANCELLED).
 */
export async function forEachChunk(
  ref: StripRef,
  visit: (bytes: Uint8Array, layout: PixelLayout, at: number) => Promise<void> | void,
  cancel?: CancelFlag,
): Promise<void> {
  // Cancelled while queued: the job's work files may already be gone.
  throwIfCancelled(cancel);
  if (ref.codec) {
    return forEachDecodedChunk({ ...ref, codec: ref.codec }, (bytes, layout, at) => {
      throwIfCancelled(cancel);
      return visit(bytes, layout, at);
    });
  }
  const row = rowBytes(ref.layout);
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / row));
  const file = await open(ref.path, 'r');
  try {
    for (let top = 0; top < ref.layout.height; top += rowsPerChunk) {
      throwIfCancelled(cancel);
      const rows = Math.min(rowsPerChunk, ref.layout.height - top);
      const bytes = scratchBuffer(rows * row);
      await readFullyFrom(file, bytes, ref.offset + top * row, ref.path);
      await visit(bytes, { ...ref.layout, height: rows }, top * row);
    }
  } finally {
    await file.close();
  }
}

/** Where an equalized strip goes, chunk by chunk. `finish` returns the SHA-256 it recorded. */
export interface StripSink {
  write(bytes: Uint8Array, at: number): Promise<void>;
  finish(): Promise<string>;
  discard(): Promise<void>;
}

/**
 * Into an existing file at `base + at` (the result container of a raw TIFF), never creating or
 * truncating it. Re-running a task writes the same bytes to the same place, so repeats and late
 * duplicates are harmless. Hashed as it goes (chunks arrive in order), so the master can check
 * the bytes in the container against what the task wrote before it calls the job done.
 */
export async function inPlaceSink(path: string, base: number): Promise<StripSink> {
  const file = await open(path, 'r+');
  const hash = createHash('sha256');
  return {
    write: async (bytes, at) => {
      hash.update(bytes);
      await writeFully(file, bytes, base + at);
    },
    finish: async () => {
      await file.close();
      return hash.digest('hex');
    },
    discard: () => file.close(),
  };
}

/**
 * Into a new strip file written under a temporary name and renamed into place by `finish`, so a
 * reader never sees half a file; hashed as it goes for the stitch to check.
 */
export async function atomicFileSink(path: string): Promise<StripSink> {
  const tmp = temporaryName(path);
  const file = await open(tmp, 'w');
  const hash = createHash('sha256');
  return {
    write: async (bytes, at) => {
      hash.update(bytes);
      await writeFully(file, bytes, at);
    },
    finish: async () => {
      await file.close();
      await rename(tmp, path);
      return hash.digest('hex');
    },
    discard: async () => {
      await file.close().catch(() => {});
      await rm(tmp, { force: true });
    },
  };
}

async function writeFully(file: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.byteLength) {
    const { bytesWritten } = await file.write(data, done, data.byteLength - done, position + done);
    done += bytesWritten;
  }
}

/** Fills `into` from the file starting at `position`; a short file is an error. */
async function readFully(path: string, into: Uint8Array, position: number): Promise<void> {
  const file = await open(path, 'r');
  try {
    await readFullyFrom(file, into, position, path);
  } finally {
    await file.close();
  }
}

async function readFullyFrom(
  file: FileHandle,
  into: Uint8Array,
  position: number,
  path: string,
): Promise<void> {
  let done = 0;
  while (done < into.byteLength) {
    const { bytesRead } = await file.read(into, done, into.byteLength - done, position + done);
    if (bytesRead === 0) throw new Error(`${path} ended early at byte ${position + done}`);
    done += bytesRead;
  }
}

/** Writes a file atomically (common/atomic-file.ts) and returns the SHA-256 of the content. */
export async function writeHashedFileAtomic(path: string, data: Uint8Array): Promise<string> {
  await writeFileAtomic(path, data);
  return sha256(data);
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The planned rows of a preview, read one by one synchronously (about a thousand small reads:
 * on a pool thread a blocking read is the cheapest kind, with no round trip through libuv's
 * I/O threads or the event loop), sampled into the plan's layout.
 */
export function readPreviewRows(source: StripRef, plan: PreviewPlan): Uint8Array {
  const row = rowBytes(source.layout);
  const out = new Uint8Array(imageBytes(plan.layout));
  const line = new Uint8Array(row);
  const fd = openSync(source.path, 'r');
  try {
    for (let y = 0; y < plan.rows.length; y++) {
      const read = readSync(fd, line, 0, row, source.offset + plan.rows[y]! * row);
      if (read !== row) throw new Error(`${source.path} ended early at row ${plan.rows[y]}`);
      sampleRow(plan, line, out, y);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

const HASH_BYTES = 4 << 20;
const hashBuffer = growable();

/** The SHA-256 of a whole file, read in 4 MiB chunks into one reused buffer. */
export function sha256OfFile(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buffer = hashBuffer(HASH_BYTES);
    for (let at = 0; ;) {
      const n = readSync(fd, buffer, 0, buffer.byteLength, at);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
