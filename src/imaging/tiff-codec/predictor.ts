/**
 * The horizontal predictor (predictor 2): each sample stored as the difference from the same
 * channel of the pixel to its left, row by row, in the sample's own width (8 or 16 bits,
 * wrapping). Applied to a chunk whose rows are `rowPixels` wide.
 */

/** Turns differences back into samples, in place. */
export function undoHorizontal(
  samples: Uint8Array | Uint16Array,
  rowPixels: number,
  channels: number,
): void {
  const row = rowPixels * channels;
  for (let start = 0; start + row <= samples.length; start += row) {
    const end = start + row;
    for (let i = start + channels; i < end; i++) samples[i] += samples[i - channels];
  }
}

/** Turns samples into differences, in place (right to left, so each uses the original). */
export function applyHorizontal(
  samples: Uint8Array | Uint16Array,
  rowPixels: number,
  channels: number,
): void {
  const row = rowPixels * channels;
  for (let start = 0; start + row <= samples.length; start += row) {
    for (let i = start + row - 1; i >= start + channels; i--) samples[i] -= samples[i - channels];
  }
}

/** Swaps the bytes of every 16-bit sample, in place (big-endian files on this host). */
export function swapBytes16(bytes: Uint8Array): void {
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const t = bytes[i];
    bytes[i] = bytes[i + 1];
    bytes[i + 1] = t;
  }
}
