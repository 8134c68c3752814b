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
 * task recorded (read, not decoded), and the sampled rows recomputed by decoding only the chunk
 * rows that hold them, in the source and in the result, through the scalar LUT (or CLAHE) path.
 */
export async function verifyBand(req: VerifyRequest): Promise<VerifyResult> {
  if (sha256OfFile(req.result.path) !== req.checksum) {
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
    for (const y of req.rows) {
      const r = Math.floor(y / chunkHeight);
      if (r !== decoded) {
        const bytes = source.rowsIn(r) * row;
        if (expected.byteLength < bytes) {
          expected = new Uint8Array(bytes);
          got = new Uint8Array(bytes);
        }
        await source.readChunkRow(r, expected);
        await result.readChunkRow(r, got);
        if (lossy) await expectLossyChunkRow(req, r * chunkHeight, expected.subarray(0, bytes));
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
