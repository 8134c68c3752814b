import { createHash } from 'node:crypto';
import { open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { stripOffsets } from '../imaging/strips.js';
import { imageBytes, type PixelLayout } from '../imaging/types.js';
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

/** Reads a strip into a buffer that owns its memory (so it can be transferred between threads). */
export async function readStrip(ref: StripRef): Promise<Uint8Array> {
  const bytes = new Uint8Array(new ArrayBuffer(imageBytes(ref.layout)));
  await readFully(ref.path, bytes, ref.offset);
  return bytes;
}

/** Fills `into` from the file starting at `position`; a short file is an error. */
async function readFully(path: string, into: Uint8Array, position: number): Promise<void> {
  const file = await open(path, 'r');
  try {
    let done = 0;
    while (done < into.byteLength) {
      const { bytesRead } = await file.read(into, done, into.byteLength - done, position + done);
      if (bytesRead === 0) throw new Error(`${path} ended early at byte ${position + done}`);
      done += bytesRead;
    }
  } finally {
    await file.close();
  }
}

/**
 * Writes a file under a temporary name and renames it into place, so a reader never sees half a
 * file and a re-run task overwrites cleanly. Returns the SHA-256 of the content.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<string> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return sha256(data);
}

/**
 * Writes `data` at `position` of an existing file (never creating or truncating it). Re-running
 * a task writes the same bytes to the same place, so repeats and late duplicates are harmless.
 */
export async function writeInPlace(
  path: string,
  position: number,
  data: Uint8Array,
): Promise<void> {
  const file = await open(path, 'r+');
  try {
    let done = 0;
    while (done < data.byteLength) {
      const { bytesWritten } = await file.write(
        data,
        done,
        data.byteLength - done,
        position + done,
      );
      done += bytesWritten;
    }
  } finally {
    await file.close();
  }
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
