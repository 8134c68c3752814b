import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { applyLutsScalar } from '../imaging/equalize.js';
import { rowBytes, samplesOf } from '../imaging/types.js';
import type { VerifyRequest, VerifyResult } from './protocol.js';
import { claheCheckRow } from './clahe-steps.js';
import { forEachChunk } from './strip-io.js';
import { verifyBand } from './verify-band.js';

/**
 * Reads an equalized strip once, hashing it and recomputing its sampled rows from the source:
 * the checksum catches a torn or overwritten write, the rows catch a wrong LUT or a kernel fault
 * (which a checksum of wrong bytes would happily confirm). Returns the first problem found.
 */
export async function verifyStrip(req: VerifyRequest): Promise<VerifyResult> {
  if (req.result.codec && req.source.codec) return verifyBand(req);
  const row = rowBytes(req.result.layout);
  const hash = createHash('sha256');
  const expected = new Uint8Array(row);
  let next = 0; // index into req.rows
  let mismatch: string | null = null;
  const fd = openSync(req.source.path, 'r');
  try {
    await forEachChunk(req.result, (bytes, layout, at) => {
      hash.update(bytes);
      const top = at / row;
      while (mismatch === null && next < req.rows.length && req.rows[next]! < top + layout.height) {
        const y = req.rows[next++]!;
        readRow(fd, req.source.path, req.source.offset + y * row, expected);
        const one = { ...layout, height: 1 };
        if (req.clahe) claheCheckRow(expected, layout, y, req.mode, req.clahe, req.lut);
        else applyLutsScalar(samplesOf(expected, one), one, req.mode, req.lut);
        const got = bytes.subarray((y - top) * row, (y - top + 1) * row);
        const column = firstDifference(got, expected);
        if (column >= 0) {
          mismatch = `row ${y} differs from the source through the ${req.clahe ? 'CLAHE tables' : 'LUT'} at byte ${column}`;
        }
      }
    });
  } finally {
    closeSync(fd);
  }
  if (mismatch) return { problem: mismatch };
  if (req.checksum !== undefined && hash.digest('hex') !== req.checksum) {
    return { problem: 'its bytes do not match the checksum its task recorded' };
  }
  return { problem: null };
}

function readRow(fd: number, path: string, position: number, into: Uint8Array): void {
  let done = 0;
  while (done < into.byteLength) {
    const n = readSync(fd, into, done, into.byteLength - done, position + done);
    if (n === 0) throw new Error(`${path} ended early at byte ${position + done}`);
    done += n;
  }
}

export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
