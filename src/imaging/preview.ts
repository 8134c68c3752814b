import { bytesPerSample, rowBytes, type PixelLayout } from './types.js';

/**
 * A preview picks real pixels (nearest neighbour, no blending): every preview pixel is a pixel of
 * the image. Equalization is pointwise, so the result's preview is exactly the input's preview
 * passed through the LUT, and both are made from a thousand rows of the source, not from the
 * whole result (which would cost a full decode after the job is otherwise done).
 */
export interface PreviewPlan {
  layout: PixelLayout;
  /** Source row of each preview row, and source column of each preview column. */
  rows: number[];
  columns: number[];
}

/** Longest side of a preview: enough for a side-by-side view, small enough to load at once. */
export const PREVIEW_MAX_SIDE = 1024;

export function planPreview(source: PixelLayout, maxSide: number): PreviewPlan {
  const scale = Math.max(1, Math.max(source.width, source.height) / maxSide);
  const width = Math.max(1, Math.min(maxSide, Math.round(source.width / scale)));
  const height = Math.max(1, Math.min(maxSide, Math.round(source.height / scale)));
  // The centre of each preview pixel, mapped back to the source.
  const pick = (n: number, of: number) =>
    Array.from({ length: n }, (_, i) => Math.min(of - 1, Math.floor(((i + 0.5) * of) / n)));
  return {
    layout: { ...source, width, height },
    rows: pick(height, source.height),
    columns: pick(width, source.width),
  };
}

/** Copies the planned columns of one source row (raw bytes) into preview row `row`. */
export function sampleRow(plan: PreviewPlan, sourceRow: Uint8Array, into: Uint8Array, row: number) {
  const pixel = plan.layout.channels * bytesPerSample(plan.layout);
  let at = row * rowBytes(plan.layout);
  // Byte by byte: a subarray per pixel would allocate a million views per preview.
  for (const x of plan.columns) {
    for (let b = x * pixel, end = b + pixel; b < end; b++) into[at++] = sourceRow[b];
  }
}

/** Browsers show 8 bits: 16-bit samples keep their high byte. */
export function toEightBit(bytes: Uint8Array, layout: PixelLayout): Uint8Array {
  if (layout.depth === 8) return bytes;
  const words = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
  const out = new Uint8Array(words.length);
  for (let i = 0; i < words.length; i++) out[i] = words[i] >>> 8;
  return out;
}
