import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ImagePool } from '../../src/pool/image-pool.js';
import { bytesOfImage, lowContrastImage } from '../support/images.js';
import { threadNices } from '../support/procfs.js';

describe('image pool', () => {
  it('counts and maps strips larger than its read chunk, to a file and in place', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pool-'));
    const pool = ImagePool.create({ threads: 1 });
    try {
      // 16-bit RGB, 2000 × 1100 × 6 bytes = 13.2 MB: several 4 MiB chunks and a partial last one.
      const layout = { width: 2000, height: 1100, channels: 3, depth: 16 } as const;
      const image = lowContrastImage(layout.width, layout.height, 3, 16, 3);
      const header = 24;
      const path = join(dir, 'image.raw');
      await writeFile(path, Buffer.concat([Buffer.alloc(header, 1), bytesOfImage(image)]));
      const source = { path, offset: header, layout };

      // Expected values from plain loops here, not from the kernels.
      const expected = new Uint32Array(3 * 65536);
      for (let i = 0; i < image.data.length; i++) expected[(i % 3) * 65536 + image.data[i]]++;
      assert.deepEqual(await pool.histogram(source, 'per-channel'), expected);

      const lut = new Uint16Array(3 * 65536).map((_, i) => 65535 - (i % 65536));
      const mapped = image.data.map((v) => 65535 - v);
      const strip = join(dir, 'strip.raw');
      const { sha256 } = await pool.equalize({ source, mode: 'per-channel', lut, outPath: strip });
      const written = await readFile(strip);
      assert.deepEqual(new Uint8Array(written), bytesOfImage({ ...image, data: mapped }));
      assert.equal(sha256, createHash('sha256').update(written).digest('hex'));

      const container = join(dir, 'container.raw');
      await writeFile(container, Buffer.alloc(header + written.byteLength, 9));
      const inPlace = { source, mode: 'per-channel' as const, lut, outPath: container };
      await pool.equalize({ ...inPlace, outOffset: header });
      const result = await readFile(container);
      assert.deepEqual(
        result.subarray(0, header),
        Buffer.alloc(header, 9),
        'bytes before untouched',
      );
      assert.deepEqual(result.subarray(header), written);
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs its threads at the given niceness and leaves the event loop thread alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pool-'));
    const pool = ImagePool.create({ threads: 2, nice: 7 });
    try {
      // A real request proves the threads have started (and set their priority); one too small
      // would run inline, on the main thread (inline-work.ts).
      const path = join(dir, 'strip.raw');
      await writeFile(path, new Uint8Array(128 * 128).fill(9));
      const layout = { width: 128, height: 128, channels: 1, depth: 8 } as const;
      await Promise.all([1, 2].map(() => pool.histogram({ path, offset: 0, layout }, 'luma')));
      // The second thread may still be loading its module: look again, a bounded number of times.
      let niced = 0;
      for (let i = 0; i < 100 && niced < 2; i++) {
        niced = [...threadNices().values()].filter((n) => n === 7).length;
        if (niced < 2) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(niced, 2, 'both pool threads run at nice 7');
      assert.equal(threadNices().get(process.pid), 0, 'the main thread keeps nice 0');
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
