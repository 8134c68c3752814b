import { readFile } from 'node:fs/promises';
import type { Lut, PixelLayout } from '../imaging/types.js';
import { sha256 } from '../pool/strip-io.js';

/** The files tasks leave for the master and for each other: LUTs and strip histograms. */

/** A job's LUT as the reduce wrote it (native-endian 16-bit words for 16-bit images). */
export async function readLut(path: string, layout: PixelLayout): Promise<Lut> {
  const data = await readFile(path);
  const copy = new Uint8Array(data).buffer;
  return layout.depth === 16 ? new Uint16Array(copy) : new Uint8Array(copy);
}

/** Reads a task's histogram file and checks it against the checksum its `done` record holds. */
export async function readHistogram(path: string, checksum: string): Promise<Uint32Array> {
  const data = await readFile(path);
  if (sha256(data) !== checksum) {
    throw new Error(`histogram ${path} does not match its recorded checksum`);
  }
  return new Uint32Array(new Uint8Array(data).buffer);
}
