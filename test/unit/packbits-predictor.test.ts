import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePackBits, encodePackBits } from '../../src/imaging/tiff-codec/packbits.js';
import { applyHorizontal, undoHorizontal } from '../../src/imaging/tiff-codec/predictor.js';
import { rng } from '../support/images.js';

/** Bytes with runs and noise mixed, like real images after a predictor. */
function mixedBytes(length: number, seed: number): Uint8Array {
  const random = rng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length;) {
    const run = 1 + Math.floor(random() * (random() < 0.3 ? 200 : 4));
    const value = Math.floor(random() * (random() < 0.5 ? 4 : 256));
    for (let k = 0; k < run && i < length; k++)
      out[i++] = random() < 0.1 ? Math.floor(random() * 256) : value;
  }
  return out;
}

describe('TIFF codecs on seeded random data', () => {
  it('PackBits decodes what it encodes, row by row', () => {
    for (const [length, rowBytes] of [
      [0, 1],
      [1, 1],
      [1000, 100],
      [70_000, 333],
      [129, 129],
      [5000, 5000],
    ]) {
      const data = mixedBytes(length, rowBytes);
      const encoded = encodePackBits(data, rowBytes).slice();
      const back = new Uint8Array(length);
      assert.equal(decodePackBits(encoded, back), length);
      assert.deepEqual(back, data);
    }
  });

  it('the horizontal predictor is undone exactly, 8 and 16 bits, per channel', () => {
    const random = rng(5);
    for (const channels of [1, 2, 3, 4]) {
      const eight = new Uint8Array(37 * channels * 5).map(() => Math.floor(random() * 256));
      const sixteen = new Uint16Array(37 * channels * 5).map(() => Math.floor(random() * 65536));
      for (const samples of [eight, sixteen]) {
        const copy = samples.slice();
        applyHorizontal(copy, 37, channels);
        assert.notDeepEqual(copy, samples);
        undoHorizontal(copy, 37, channels);
        assert.deepEqual(copy, samples);
      }
    }
  });

  it('the predictor equals its definition at every row width, offset, channel count and depth', () => {
    const random = rng(8);
    // Each difference from the same channel one pixel to the left, modulo the sample width.
    const reference = (samples: Uint8Array | Uint16Array, rowPixels: number, channels: number) => {
      const out = samples.slice();
      const row = rowPixels * channels;
      const modulo = samples instanceof Uint8Array ? 256 : 65536;
      for (let start = 0; start + row <= samples.length; start += row) {
        for (let i = start + channels; i < start + row; i++) {
          out[i] = (samples[i]! - samples[i - channels]! + modulo) % modulo;
        }
      }
      return out;
    };
    // Row widths on and off multiples of 4, views starting on and off a word, a partial last
    // row left alone, 8- and 16-bit calls interleaved in one thread.
    for (let k = 0; k < 120; k++) {
      const depth = random() < 0.5 ? 8 : 16;
      const channels = random() < 0.5 ? 1 : 1 + Math.floor(random() * 4);
      const rowPixels =
        random() < 0.5 ? 4 * (1 + Math.floor(random() * 80)) : 1 + Math.floor(random() * 300);
      const rows = 1 + Math.floor(random() * 6);
      const offset = Math.floor(random() * 4);
      const length = rowPixels * channels * rows + (random() < 0.3 ? Math.floor(random() * 7) : 0);
      const size = depth === 8 ? 1 : 2;
      const backing = new ArrayBuffer((length + offset + 3) * size);
      const samples =
        depth === 8
          ? new Uint8Array(backing, offset, length)
          : new Uint16Array(backing, offset * 2, length);
      for (let i = 0; i < length; i++)
        samples[i] = Math.floor(random() * (depth === 8 ? 256 : 65536));
      const original = samples.slice();
      const label = `${depth}-bit, ${channels} channel(s), ${rowPixels} wide, offset ${offset}`;
      applyHorizontal(samples, rowPixels, channels);
      assert.deepEqual(samples, reference(original, rowPixels, channels), label);
      undoHorizontal(samples, rowPixels, channels);
      assert.deepEqual(samples, original, label);
    }
  });
});
