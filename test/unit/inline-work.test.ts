import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ImagePool } from '../../src/pool/image-pool.js';
import { INLINE_MAX_BYTES } from '../../src/pool/inline-work.js';

/** A seeded generator (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('work too small for a pool thread', () => {
  it('runs on the main thread one request at a time, exact when interleaved with pool work', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inline-'));
    const pool = ImagePool.create({ threads: 1 });
    const next = random(20261201);
    try {
      // Grey 8-bit strips, some at most INLINE_MAX_BYTES (inline), some larger (pool thread),
      // each with its own LUT, all started at once so the inline ones interleave.
      const cases = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const big = next() < 0.25;
          const width = 1 + Math.floor(next() * (big ? 300 : 64));
          const height = big
            ? 1 + Math.ceil(INLINE_MAX_BYTES / width) + Math.floor(next() * 40)
            : 1 + Math.floor(next() * Math.floor(INLINE_MAX_BYTES / width));
          const pixels = new Uint8Array(width * height).map(() => Math.floor(next() * 256));
          const lut = new Uint8Array(256).map(() => Math.floor(next() * 256));
          const path = join(dir, `in-${i}.raw`);
          await writeFile(path, pixels);
          const layout = { width, height, channels: 1, depth: 8 } as const;
          return { i, pixels, lut, path, layout, inline: pixels.byteLength <= INLINE_MAX_BYTES };
        }),
      );
      assert.ok(cases.some((c) => c.inline) && cases.some((c) => !c.inline));
      await Promise.all(
        cases.map(async (c) => {
          const source = { path: c.path, offset: 0, layout: c.layout };
          // Expected values from plain loops here, not from the kernels.
          const expected = new Uint32Array(256);
          for (const v of c.pixels) expected[v]++;
          const counted = await pool.histogramOnThread(source, 'luma');
          assert.deepEqual(counted.histogram, expected, `histogram of case ${c.i}`);
          assert.equal(counted.thread === 0, c.inline, `thread of case ${c.i}`);
          const outPath = join(dir, `out-${c.i}.raw`);
          const done = await pool.equalize({ source, mode: 'luma', lut: c.lut, outPath });
          const written = await readFile(outPath);
          assert.deepEqual(
            new Uint8Array(written),
            c.pixels.map((v) => c.lut[v]!),
            `case ${c.i}`,
          );
          assert.equal(done.sha256, createHash('sha256').update(written).digest('hex'));
          assert.equal(done.thread === 0, c.inline, `thread of case ${c.i}`);
        }),
      );
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is not counted as a busy pool thread', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inline-'));
    const pool = ImagePool.create({ threads: 1 });
    try {
      const small = join(dir, 'small.raw');
      await writeFile(small, new Uint8Array(64).fill(7));
      const layout = { width: 8, height: 8, channels: 1, depth: 8 } as const;
      const counting = pool.histogram({ path: small, offset: 0, layout }, 'luma');
      // Sampled while the request is in flight (it settles on a later turn of the loop).
      assert.equal(pool.stats.busy, 0);
      assert.equal((await counting)[7], 64);
      assert.equal(pool.stats.busy, 0);
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
