import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/common/random.js';
import { cancelFlagFor } from '../../src/pool/cancel-flag.js';
import { ImagePool } from '../../src/pool/image-pool.js';
import { forEachChunk } from '../../src/pool/strip-io.js';
import { rowBytes } from '../../src/imaging/types.js';

/** 1000 × 3000 RGB 8-bit = 9 MB: three 4 MiB chunks (two full, one partial). */
const layout = { width: 1000, height: 3000, channels: 3, depth: 8 } as const;

async function withStrip(run: (path: string, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pool-cancel-'));
  try {
    const path = join(dir, 'source.raw');
    const random = seededRandom(19);
    await writeFile(
      path,
      Uint8Array.from({ length: rowBytes(layout) * layout.height }, () =>
        Math.floor(random() * 256),
      ),
    );
    await run(path, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('cancelling pool work', () => {
  it('stops a strip visit before the chunk after the flag went up, not at the end', async () => {
    await withStrip(async (path) => {
      const source = { path, offset: 0, layout };
      let chunks = 0;
      await forEachChunk(source, () => void chunks++);
      assert.ok(chunks >= 3, `the strip spans ${chunks} chunks`);
      const random = seededRandom(7);
      for (let round = 0; round < 6; round++) {
        const raiseAt = Math.floor(random() * (chunks - 1));
        const abort = new AbortController();
        const { flag, dispose } = cancelFlagFor(abort.signal);
        let visited = 0;
        await assert.rejects(
          forEachChunk(
            source,
            () => {
              if (visited++ === raiseAt) abort.abort();
            },
            flag,
          ),
          (err: Error & { code?: string }) => err.code === 'CANCELLED',
        );
        dispose();
        assert.equal(visited, raiseAt + 1, `raised in chunk ${raiseAt}`);
      }
    });
  });

  it('a cancelled request leaves no output, and the same threads keep working', async () => {
    await withStrip(async (path, dir) => {
      const pool = ImagePool.create({ threads: 1 });
      try {
        const source = { path, offset: 0, layout };
        const lut = new Uint8Array(3 * 256).map((_, i) => 255 - (i % 256));
        const uncancelled = await pool.histogram(source, 'per-channel');
        // Queued behind a running request on the one thread, then cancelled before it starts.
        const busy = pool.histogram(source, 'per-channel');
        const abort = new AbortController();
        const equalized = pool.equalize(
          { source, mode: 'per-channel', lut, outPath: join(dir, 'strip.raw') },
          abort.signal,
        );
        abort.abort();
        await assert.rejects(
          equalized,
          (err: Error & { code?: string }) => err.code === 'CANCELLED',
        );
        assert.deepEqual(await busy, uncancelled);
        assert.deepEqual((await readdir(dir)).sort(), ['source.raw'], 'no strip, no temp file');
        // A signal that never aborts changes nothing.
        const kept = new AbortController();
        assert.deepEqual(
          await pool.histogram(source, 'per-channel', { signal: kept.signal }),
          uncancelled,
        );
      } finally {
        await pool.close();
      }
    });
  });
});
