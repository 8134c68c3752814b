/**
 * The horizontal predictor (predictor 2): each sample stored as the difference from the same
 * channel of the pixel to its left, row by row, in the sample's own width (8 or 16 bits,
 * wrapping). Applied to a chunk whose rows are `rowPixels` wide.
 */

import { endianness } from 'node:os';

/**
 * Each width of sample has its own loop: one loop over both array types would see both in a
 * pool thread that runs 8- and 16-bit jobs, and such polymorphic element access measured
 * about twice as slow. Grey 8-bit rows whose length is a multiple of 4 (every tile width, most
 * strips) go four samples at a time through 32-bit words instead.
 */
const WORDS_FIT = endianness() === 'LE';

/**
 * Turns differences back into samples, in place. The running sum is kept in a local, not read
 * back from the array: each sample then waits on an add, not on the store before it.
 */
export function undoHorizontal(
  samples: Uint8Array | Uint16Array,
  rowPixels: number,
  channels: number,
): void {
  if (samples instanceof Uint16Array) undoRows16(samples, rowPixels * channels, channels);
  else if (channels === 1 && wordAligned(samples, rowPixels)) undoGreyWords(samples, rowPixels);
  else undoRows8(samples, rowPixels * channels, channels);
}

/** Turns samples into differences, in place (each uses the original sample to its left). */
export function applyHorizontal(
  samples: Uint8Array | Uint16Array,
  rowPixels: number,
  channels: number,
): void {
  if (samples instanceof Uint16Array) applyRows16(samples, rowPixels * channels, channels);
  else if (channels === 1 && wordAligned(samples, rowPixels)) applyGreyWords(samples, rowPixels);
  else applyRows8(samples, rowPixels * channels, channels);
}

function undoRows8(samples: Uint8Array, row: number, channels: number): void {
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

function undoRows16(samples: Uint16Array, row: number, channels: number): void {
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

function applyRows8(samples: Uint8Array, row: number, channels: number): void {
  for (let start = 0; start + row <= samples.length; start += row) {
    for (let i = start + row - 1; i >= start + channels; i--) {
      samples[i] = samples[i] - samples[i - channels];
    }
  }
}

function applyRows16(samples: Uint16Array, row: number, channels: number): void {
  for (let start = 0; start + row <= samples.length; start += row) {
    for (let i = start + row - 1; i >= start + channels; i--) {
      samples[i] = samples[i] - samples[i - channels];
    }
  }
}

function wordAligned(bytes: Uint8Array, rowPixels: number): boolean {
  return WORDS_FIT && bytes.byteOffset % 4 === 0 && rowPixels % 4 === 0;
}

/** The seven low bits and the top bit of each byte of a word: bytewise adds without carries. */
const LOW7 = 0x7f7f7f7f;
const TOP = 0x80808080 | 0;

/** Four bytes added pairwise, each wrapping at 8 bits. */
function addBytes(a: number, b: number): number {
  return ((a & LOW7) + (b & LOW7)) ^ ((a ^ b) & TOP);
}

/**
 * The running sum of a row of bytes, a word (four samples, first in the low byte) at a time:
 * two shifted adds make the word's own prefix sums, and the sum so far, copied into every
 * byte, is added last.
 */
function undoGreyWords(bytes: Uint8Array, rowPixels: number): void {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
  const rowWords = rowPixels >> 2;
  for (let start = 0; start + rowWords <= words.length; start += rowWords) {
    let sumSoFar = 0;
    for (let i = start; i < start + rowWords; i++) {
      let x = words[i];
      x = addBytes(x, x << 8);
      x = addBytes(x, x << 16);
      x = addBytes(x, sumSoFar);
      words[i] = x;
      sumSoFar = Math.imul(x >>> 24, 0x01010101);
    }
  }
}

/** Each byte minus the byte before it, a word at a time: no borrow crosses into the next byte. */
function applyGreyWords(bytes: Uint8Array, rowPixels: number): void {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
  const rowWords = rowPixels >> 2;
  for (let start = 0; start + rowWords <= words.length; start += rowWords) {
    let lastByte = 0;
    for (let i = start; i < start + rowWords; i++) {
      const x = words[i];
      const left = (x << 8) | lastByte;
      words[i] = ((x | TOP) - (left & LOW7)) ^ ((x ^ ~left) & TOP);
      lastByte = x >>> 24;
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
