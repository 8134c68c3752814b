import { luma16, luma8 } from '../luma.js';
import type { ColourMode, PixelLayout, Samples } from '../types.js';

/**
 * The values CLAHE equalizes, one row at a time: the grey channel, the luma of an RGB pixel, or
 * one of R, G, B in per-channel mode. Alpha is never read or written.
 */
export function readPlaneRow(
  samples: Samples,
  layout: PixelLayout,
  mode: ColourMode,
  row: number,
  plane: number,
  out: Samples,
): void {
  const ch = layout.channels;
  const width = layout.width;
  let i = row * width * ch;
  if (ch < 3 || mode === 'per-channel') {
    i += plane;
    for (let x = 0; x < width; x++, i += ch) out[x] = samples[i]!;
    return;
  }
  const luma = layout.depth === 16 ? luma16 : luma8;
  for (let x = 0; x < width; x++, i += ch)
    out[x] = luma(samples[i]!, samples[i + 1]!, samples[i + 2]!);
}

/**
 * Writes a row's equalized values back: straight into the channel, or in luma mode as the shift
 * of the luma added to R, G and B (clamped), which keeps the colour differences as global
 * equalization does. `before` holds the values readPlaneRow gave for the same row.
 */
export function writePlaneRow(
  samples: Samples,
  layout: PixelLayout,
  mode: ColourMode,
  row: number,
  plane: number,
  before: Samples,
  after: Samples,
): void {
  const ch = layout.channels;
  const width = layout.width;
  let i = row * width * ch;
  if (ch < 3 || mode === 'per-channel') {
    i += plane;
    for (let x = 0; x < width; x++, i += ch) samples[i] = after[x]!;
    return;
  }
  const max = layout.depth === 16 ? 65535 : 255;
  for (let x = 0; x < width; x++, i += ch) {
    const shift = after[x]! - before[x]!;
    for (let c = 0; c < 3; c++) {
      const v = samples[i + c]! + shift;
      samples[i + c] = v < 0 ? 0 : v > max ? max : v;
    }
  }
}
