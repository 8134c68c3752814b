import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesOf, samplesOf, type PixelLayout } from '../../src/imaging/types.js';
import { rng } from '../support/images.js';

const grey16: PixelLayout = { width: 1, height: 1, channels: 1, depth: 16 };
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Sample i of `bytes` read byte by byte, as the host's 16-bit view reads it. */
function expectedSamples(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength >> 1 }, (_, i) =>
    view.getUint16(2 * i, littleEndianHost),
  );
}

describe('samplesOf', () => {
  it('reads 16-bit samples at every offset and length, copying only at odd offsets', () => {
    const random = rng(16);
    for (let trial = 0; trial < 200; trial++) {
      const size = 2 + Math.floor(random() * 64);
      const backing = new Uint8Array(size + 3).map(() => Math.floor(random() * 256));
      const offset = Math.floor(random() * 3);
      const length = Math.floor(random() * (size + 1));
      const bytes = backing.subarray(offset, offset + length);
      const samples = samplesOf(bytes, grey16);
      const what = `offset ${offset}, ${length} bytes`;
      assert.deepEqual([...samples], expectedSamples(bytes), what);
      assert.equal(samples.buffer === backing.buffer, offset % 2 === 0, `shared memory: ${what}`);
      if (samples.length === 0) continue;
      // An edit reaches the bytes through a view; through a copy only when written back.
      samples[0] = (samples[0]! + 1) & 0xffff;
      if (offset % 2 !== 0) bytes.set(bytesOf(samples));
      assert.deepEqual(expectedSamples(bytes), [...samples], `edit: ${what}`);
    }
  });

  it('is the bytes themselves at 8 bits', () => {
    const bytes = new Uint8Array(9).subarray(1);
    assert.equal(samplesOf(bytes, { ...grey16, depth: 8 }), bytes);
  });
});
