import { applyLutsScalar } from '../imaging/equalize.js';
import { BandReader } from '../imaging/tiff-codec/band-reader.js';
import { rowBytes, samplesOf } from '../imaging/types.js';
import { claheCheckRow } from './clahe-steps.js';
import type { VerifyRequest, VerifyResult } from './protocol.js';
import { sha256OfFile } from './strip-io.js';
import { isLossy, expectLossyChunkRow } from './verify-lossy.js';
import { firstDifference } from './verify-strip.js';

/**
 * The check of a band file an equalize task encoded: the whole file against the checksum its
 * task recorded (read, not decoded) unless the assembly of the result checks it, and the
 * sampled rows recomputed by decoding only the chunk rows that hold them, down to the last
 * sampled row of each, in the source and in the result, through the scalar LUT (or CLAHE)
 * path; a lossy (JPEG) chunk row through the LUT and the same encoder as its task.
 */
export async function verifyBand(req: VerifyRequest): Promise<VerifyResult> {
  if (req.checksum !== undefined && sha256OfFile(req.result.path) !== req.checksum) {
    return { problem: 'its bytes do not match the checksum its task recorded' };
  }
  const source = new BandReader({ ...req.source, codec: req.source.codec! });
  let result: BandReader | undefined;
  try {
    result = new BandReader({ ...req.result, codec: req.result.codec! });
    const chunkHeight = req.source.codec!.geometry.chunkHeight;
    const lossy = isLossy(req);
    const row = rowBytes(req.source.layout);
    let decoded = -1;
    let expected = new Uint8Array(0);
    let got = new Uint8Array(0);
    for (const [i, y] of req.rows.entries()) {
      const r = Math.floor(y / chunkHeight);
      if (r !== decoded) {
        // Down to the last sampled row of this chunk row: decoding stops there.
        let last = y;
        for (let k = i + 1; k < req.rows.length && req.rows[k]! < (r + 1) * chunkHeight; k++) {
          last = req.rows[k]!;
        }
        // A lossy chunk row is re-encoded whole, as its task did: all its rows are needed.
        const rows = lossy ? source.rowsIn(r) : last - r * chunkHeight + 1;
        if (expected.byteLength < rows * row) {
          expected = new Uint8Array(rows * row);
          got = new Uint8Array(rows * row);
        }
        await source.readChunkRow(r, expected, rows);
        await result.readChunkRow(r, got, rows);
        if (lossy) {
          await expectLossyChunkRow(req, r * chunkHeight, expected.subarray(0, rows * row));
        }
        decoded = r;
      }
      const at = (y - r * chunkHeight) * row;
      const want = expected.subarray(at, at + row);
      const one = { ...req.source.layout, height: 1 };
      if (lossy) {
        // already mapped and re-encoded with its chunk row
      } else if (req.clahe) claheCheckRow(want, req.source.layout, y, req.mode, req.clahe, req.lut);
      else applyLutsScalar(samplesOf(want, one), one, req.mode, req.lut);
      const column = firstDifference(got.subarray(at, at + row), want);
      if (column >= 0) {
        const through = req.clahe ? 'CLAHE tables' : 'LUT';
        return {
          problem: `row ${y} differs from the source through the ${through} at byte ${column}`,
        };
      }
    }
    return { problem: null };
  } catch (err) {
    return {
      problem: `it cannot be decoded (${err instanceof Error ? err.message : String(err)})`,
    };
  } finally {
    source.close();
    result?.close();
  }
}
