import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { deflateSync, inflateSync } from 'node:zlib';
import {
  deflateChunkBytes,
  deflateLibrary,
  inflateChunkBytes,
  type DeflateLibrary,
} from '../../src/imaging/tiff-codec/deflate.js';
import { rng } from '../support/images.js';

const LIBRARIES: DeflateLibrary[] = ['libdeflate', 'zlib'];

/** Chunks like a TIFF's: smooth rows with noise, pure noise, one value, and odd lengths. */
function chunks(seed: number): Uint8Array[] {
  const random = rng(seed);
  const out: Uint8Array[] = [];
  for (const length of [1, 7, 4096, 65_536, 65_536 * 2 + 13]) {
    const smooth = new Uint8Array(length);
    for (let i = 0; i < length; i++)
      smooth[i] = (((i % 256) >> 2) + Math.floor(random() * 6)) & 255;
    const noise = new Uint8Array(length).map(() => Math.floor(random() * 256));
    out.push(smooth, noise, new Uint8Array(length).fill(Math.floor(random() * 256)));
  }
  return out;
}

describe('deflate for TIFF chunks', () => {
  it('uses libdeflate on this machine (the test set-up installs it)', () => {
    assert.deepEqual(deflateLibrary(), { library: 'libdeflate' });
  });

  it('each library inflates what either deflates, at every level, seeded', () => {
    for (const seed of [1, 2, 3]) {
      for (const chunk of chunks(seed)) {
        for (const level of [1, 4, 6, 9]) {
          for (const writer of LIBRARIES) {
            const stored = deflateChunkBytes(chunk, level, writer).slice();
            // An independent reader first: Node's zlib on the stream as stored.
            assert.deepEqual(new Uint8Array(inflateSync(stored)), chunk, `${writer} ${level}`);
            for (const reader of LIBRARIES) {
              const back = new Uint8Array(chunk.length);
              assert.equal(inflateChunkBytes(stored, back, reader), chunk.length);
              assert.deepEqual(back, chunk, `${writer} → ${reader} at level ${level}`);
            }
          }
        }
      }
    }
  });

  it('writes the same bytes for a chunk whatever was deflated before on the thread', () => {
    const random = rng(11);
    const all = chunks(7);
    const first = all.map((c) => deflateChunkBytes(c, 6).slice());
    // Interleaved levels and sizes: the per-level compressors and the shared output buffer.
    for (let round = 0; round < 60; round++) {
      const i = Math.floor(random() * all.length);
      const level = [1, 4, 6, 9][Math.floor(random() * 4)];
      const stored = deflateChunkBytes(all[i], level);
      if (level === 6) assert.deepEqual(stored, first[i], `chunk ${i} in round ${round}`);
      else assert.deepEqual(new Uint8Array(inflateSync(stored)), all[i]);
    }
  });

  it('is about as small as zlib at the same level', () => {
    const [smooth] = chunks(4).filter((c) => c.length === 65_536);
    const ours = deflateChunkBytes(smooth, 6, 'libdeflate').length;
    const zlibs = deflateSync(smooth, { level: 6 }).length;
    assert.ok(ours < zlibs * 1.1, `libdeflate ${ours} bytes, zlib ${zlibs}`);
  });

  it('reads a short, a long and a corrupt stream as zlib does', () => {
    const data = chunks(5)[6]; // 4096 smooth bytes
    const stored = deflateSync(data);
    for (const library of LIBRARIES) {
      // Short: the chunk holds fewer bytes than its tile; the caller calls that corrupt.
      const roomy = new Uint8Array(data.length + 100);
      assert.equal(inflateChunkBytes(stored, roomy, library), data.length, library);
      assert.deepEqual(roomy.subarray(0, data.length), data);
      // Long: more than the tile holds.
      assert.throws(() => inflateChunkBytes(stored, new Uint8Array(100), library), library);
      // Corrupt: a flipped byte in the middle of the stream.
      const bad = new Uint8Array(stored);
      bad[Math.floor(bad.length / 2)] ^= 0xff;
      bad[3] ^= 0x55;
      assert.throws(() => inflateChunkBytes(bad, new Uint8Array(data.length), library), library);
    }
  });

  it('uses libdeflate on a worker thread too, with the same bytes', async () => {
    const chunk = chunks(9)[9];
    const here = deflateChunkBytes(chunk, 6).slice();
    const moduleUrl = new URL('../../src/imaging/tiff-codec/deflate.js', import.meta.url).href;
    const worker = new Worker(
      `import(${JSON.stringify(moduleUrl)}).then((m) => {
        const { parentPort, workerData } = require('node:worker_threads');
        const stored = m.deflateChunkBytes(workerData, 6).slice();
        parentPort.postMessage({ library: m.deflateLibrary(), stored });
      });`,
      { eval: true, workerData: chunk },
    );
    const [answer] = (await once(worker, 'message')) as [{ library: unknown; stored: Uint8Array }];
    await worker.terminate();
    assert.deepEqual(answer.library, { library: 'libdeflate' });
    assert.deepEqual(new Uint8Array(answer.stored), here);
  });
});
