import { createHash } from 'node:crypto';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { imageBytes } from '../imaging/types.js';
import type { StripRef } from './protocol.js';

/** Reads a strip into a buffer that owns its memory (so it can be transferred between threads). */
export async function readStrip(ref: StripRef): Promise<Uint8Array> {
  const length = imageBytes(ref.layout);
  const bytes = new Uint8Array(new ArrayBuffer(length));
  const file = await open(ref.path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await file.read(bytes, done, length - done, ref.offset + done);
      if (bytesRead === 0) throw new Error(`strip source ended early at byte ${ref.offset + done}`);
      done += bytesRead;
    }
  } finally {
    await file.close();
  }
  return bytes;
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

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
