import { readFile } from 'node:fs/promises';
import { planPreview, sampleRow, type PreviewPlan } from '../imaging/preview.js';
import { imageBytes, rowBytes } from '../imaging/types.js';
import type { StripRef } from './protocol.js';

/**
 * A chunked TIFF page cannot be read row by row without decoding, so the histogram tasks, which
 * decode their bands anyway, pick out the preview's rows as they pass (the same plan as
 * job-previews.ts, of the whole image): the master then joins a thousand rows instead of
 * decoding the image.
 */
export class PreviewRowsOfBand {
  readonly rows: Uint8Array;
  readonly #plan: PreviewPlan;
  /** Plan row indices that fall in this band, and the band's first image row. */
  readonly #first: number;
  readonly #count: number;
  readonly #top: number;
  readonly #row: number;

  constructor(source: StripRef, maxSide: number) {
    const image = source.codec?.geometry.layout ?? source.layout;
    this.#plan = planPreview(image, maxSide);
    this.#top = source.codec?.top ?? 0;
    this.#row = rowBytes(source.layout);
    const end = this.#top + source.layout.height;
    const rows = this.#plan.rows;
    let first = 0;
    while (first < rows.length && rows[first]! < this.#top) first++;
    let last = first;
    while (last < rows.length && rows[last]! < end) last++;
    this.#first = first;
    this.#count = last - first;
    this.rows = new Uint8Array(this.#count * rowBytes(this.#plan.layout));
  }

  /** Samples the planned rows inside `bytes`, whole rows starting at byte `at` of the band. */
  take(bytes: Uint8Array, at: number): void {
    const top = this.#top + at / this.#row;
    const end = top + bytes.byteLength / this.#row;
    for (let i = 0; i < this.#count; i++) {
      const y = this.#plan.rows[this.#first + i]!;
      if (y < top || y >= end) continue;
      const line = bytes.subarray((y - top) * this.#row, (y - top + 1) * this.#row);
      sampleRow(this.#plan, line, this.rows, i);
    }
  }
}

/** The preview's input rows from the bands' files (in band order). */
export async function joinPreviewParts(
  parts: readonly string[],
  plan: PreviewPlan,
): Promise<Uint8Array> {
  const out = new Uint8Array(imageBytes(plan.layout));
  let at = 0;
  for (const part of parts) {
    const data = await readFile(part);
    if (at + data.byteLength > out.byteLength) throw new Error('preview rows do not fit the plan');
    out.set(data, at);
    at += data.byteLength;
  }
  if (at !== out.byteLength) throw new Error('preview rows do not cover the plan');
  return out;
}
