import { rowBytes, type PixelLayout } from './types.js';

/** A horizontal band of whole rows: the unit of work of one task. */
export interface Strip {
  index: number;
  top: number;
  rows: number;
}

/**
 * Splits `height` rows into at most `tasks` strips of near-equal height (the first
 * `height % count` strips get one extra row). With more tasks than rows every row becomes a
 * strip of its own: an empty task would only cost a round trip.
 */
export function planStrips(height: number, tasks: number): Strip[] {
  if (!Number.isInteger(height) || height < 1) throw new RangeError(`bad height ${height}`);
  if (!Number.isInteger(tasks) || tasks < 1) throw new RangeError(`bad task count ${tasks}`);
  const count = Math.min(tasks, height);
  const base = Math.floor(height / count);
  const extra = height % count;
  const strips: Strip[] = [];
  let top = 0;
  for (let index = 0; index < count; index++) {
    const rows = base + (index < extra ? 1 : 0);
    strips.push({ index, top, rows });
    top += rows;
  }
  return strips;
}

/** Byte range of a strip inside the raw image. */
export function stripByteRange(
  layout: PixelLayout,
  strip: Strip,
): { offset: number; length: number } {
  const row = rowBytes(layout);
  return { offset: strip.top * row, length: strip.rows * row };
}

/**
 * Joins strips (in order) into one image buffer, checking that they tile the image exactly.
 */
export function stitchStrips(layout: PixelLayout, parts: readonly Uint8Array[]): Uint8Array {
  const row = rowBytes(layout);
  const total = row * layout.height;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    if (part.byteLength % row !== 0 || offset + part.byteLength > total) {
      throw new RangeError('strips do not tile the image');
    }
    out.set(part, offset);
    offset += part.byteLength;
  }
  if (offset !== total) throw new RangeError('strips do not cover the image');
  return out;
}
