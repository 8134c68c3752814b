/**
 * The horizontal predictor (predictor 2): each sample stored as the difference from the same
 * channel of the pixel to its left, row by row, in the sample's own width (8 or 16 bits,
 * wrapping). Applied to a chunk whose rows are `rowPixels` wide.
 *
 * Each element type has its own loop: one loop over both would see two array kinds, and V8
 * then compiles its element accesses generically, several times slower.
 */

/**
 * Turns differences back into samples, in place. The running sum is kept in a local, not read
 * back from the array: each sample then waits on an add, not on the store before it.
 */
export function undoHorizontal(
  samples: Uint8Array | Uint16Array,
  rowPixels: number,
  channels: number,
): void {
  if (samples instanceof Uint8Array) undoRows8(samples, rowPixels, channels);
  else undoRows16(samples, rowPixels, channels);
}

function undoRows8(samples: Uint8Array, rowPixels: number, channels: number): void {
  const row = rowPixels * channels;
  for (let start = 0; start + row <= samples.length; start += row) {
    const end = start + row;
    for (let c = start; c < start + channels; c++) {
      let sum = samples[c];
      for (let i = c + channels; i < end; i += channels) {
        sum = (sum + samples[i]) & 0xff;
        samples[i] = sum;
      }
    }
  }
}

function undoRows16(samples: Uint16Array, rowPixels: number, channels: number): void {
  const row = rowPixels * channels;
  for (let start = 0; start + row <= samples.length; start += row) {
    const end = start + row;
    for (let c = start; c < start + channels; c++) {
      let sum = samples[c];
      for (let i = c + channels; i < end; i += channels) {
        sum = (sum + samples[i]) & 0xffff;
        samples[i] = sum;
      }
    }
  }
}

/** Turns samples into differences, in place (each uses the original sample to its left). */
export function applyHorizontal(
  samples: Uint8Array | Uint16Array,
  rowPixels: number,
  channels: number,
): void {
  if (samples instanceof Uint8Array) applyRows8(samples, rowPixels, channels);
  else applyRows16(samples, rowPixels, channels);
}

function applyRows8(samples: Uint8Array, rowPixels: number, channels: number): void {
  const row = rowPixels * channels;
  for (let start = 0; start + row <= samples.length; start += row) {
    const end = start + row;
    for (let c = start; c < start + channels; c++) {
      let left = samples[c];
      for (let i = c + channels; i < end; i += channels) {
        const here = samples[i];
        samples[i] = here - left;
        left = here;
      }
    }
  }
}

function applyRows16(samples: Uint16Array, rowPixels: number, channels: number): void {
  const row = rowPixels * channels;
  for (let start = 0; start + row <= samples.length; start += row) {
    const end = start + row;
    for (let c = start; c < start + channels; c++) {
      let left = samples[c];
      for (let i = c + channels; i < end; i += channels) {
        const here = samples[i];
        samples[i] = here - left;
        left = here;
      }
    }
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
