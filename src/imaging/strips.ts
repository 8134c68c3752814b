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
 * Where each strip (in order) starts in the stitched image, checking that the strips tile the
 * image exactly: whole rows, no gap, no overlap. Stitching then reads each strip straight into
 * its place in one buffer (no intermediate copies).
 */
export function stripOffsets(layout: PixelLayout, byteLengths: readonly number[]): number[] {
  const row = rowBytes(layout);
  const total = row * layout.height;
  const offsets: number[] = [];
  let offset = 0;
  for (const length of byteLengths) {
    if (length % row !== 0 || offset + length > total) {
      throw new RangeError('strips do not tile the image');
    }
    offsets.push(offset);
    offset += length;
  }
  if (offset !== total) throw new RangeError('strips do not cover the image');
  return offsets;
}
