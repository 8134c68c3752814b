import { applyLutsScalar } from '../imaging/equalize.js';
import { roundTripChunkRow } from '../imaging/tiff-codec/jpeg-round-trip.js';
import { rowBytes, samplesOf } from '../imaging/types.js';
import { claheCheckRow } from './clahe-steps.js';
import type { VerifyRequest } from './protocol.js';

/** True when the result's chunks are lossy (JPEG): their rows are not the mapped source rows. */
export function isLossy(req: VerifyRequest): boolean {
  return req.result.codec?.geometry.compression === 7;
}

/**
 * A lossy band's expectation for a chunk row (the strip's rows from `top`: the decoded source
 * rows in `rows`, replaced): every row mapped through the LUT (or CLAHE), then encoded and decoded
 * like the result. The encoder is deterministic, so the result's rows must equal these exactly.
 */
export async function expectLossyChunkRow(
  req: VerifyRequest,
  top: number,
  rows: Uint8Array,
): Promise<void> {
  const row = rowBytes(req.source.layout);
  const one = { ...req.source.layout, height: 1 };
  for (let k = 0; k * row < rows.byteLength; k++) {
    const want = rows.subarray(k * row, (k + 1) * row);
    if (req.clahe) claheCheckRow(want, req.source.layout, top + k, req.mode, req.clahe, req.lut);
    else applyLutsScalar(samplesOf(want, one), one, req.mode, req.lut);
  }
  await roundTripChunkRow(req.result.codec!.geometry, rows);
}
