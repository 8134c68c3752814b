/** How the pixels of a decoded image are laid out in memory (interleaved, row-major). */
export interface PixelLayout {
  width: number;
  height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  /** Bits per sample. 16-bit samples are native-endian Uint16 values. */
  depth: 8 | 16;
}

/**
 * `luma` equalizes luminance and keeps chroma (no colour shift); `per-channel` equalizes R, G
 * and B independently. Grey images behave the same in both modes. Alpha is never equalized.
 */
export type ColourMode = 'luma' | 'per-channel';

export const COLOUR_MODES: readonly ColourMode[] = ['luma', 'per-channel'];

/** Samples of a strip (or a whole image): bytes for 8-bit, native-endian words for 16-bit. */
export type Samples = Uint8Array | Uint16Array;

/** One lookup table per equalized plane, planes laid end to end (plane p at p * bins). */
export type Lut = Uint8Array | Uint16Array;

export function bytesPerSample(layout: PixelLayout): 1 | 2 {
  return layout.depth === 16 ? 2 : 1;
}

export function rowBytes(layout: PixelLayout): number {
  return layout.width * layout.channels * bytesPerSample(layout);
}

export function imageBytes(layout: PixelLayout): number {
  return rowBytes(layout) * layout.height;
}

export function binsFor(layout: PixelLayout): number {
  return layout.depth === 16 ? 65536 : 256;
}

export function hasAlpha(layout: PixelLayout): boolean {
  return layout.channels === 2 || layout.channels === 4;
}

export function colourChannels(layout: PixelLayout): 1 | 3 {
  return layout.channels >= 3 ? 3 : 1;
}

/**
 * How many independent histograms/LUTs the mode needs: one for grey and for luma (the
 * luminance plane), three for per-channel colour.
 */
export function planesFor(layout: PixelLayout, mode: ColourMode): 1 | 3 {
  return mode === 'per-channel' ? colourChannels(layout) : 1;
}

/**
 * Views raw bytes as samples of the layout's depth (whole 16-bit samples only; a trailing odd
 * byte is not a sample). A 16-bit view must start at an even address, so bytes at an odd
 * offset are copied: then the samples are equal but edits to them do not reach `bytes` (write
 * `bytesOf(samples)` back). Our readers' buffers start at offset 0, so this is the rare case.
 */
export function samplesOf(bytes: Uint8Array, layout: PixelLayout): Samples {
  if (layout.depth === 8) return bytes;
  const count = bytes.byteLength >> 1;
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  return new Uint16Array(bytes.slice(0, 2 * count).buffer);
}

/** The bytes under a sample view, without copying. */
export function bytesOf(samples: Samples): Uint8Array {
  return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
}
