import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ImagePool } from '../../src/pool/image-pool.js';

/** Nice value of every live thread of this process, from /proc (field 19 of stat). */
function threadNices(): Map<number, number> {
  const nices = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      nices.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return nices;
}

describe('image pool', () => {
  it('runs its threads at the given niceness and leaves the event loop thread alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pool-'));
    const pool = ImagePool.create({ threads: 2, nice: 7 });
    try {
      // A real request proves the threads have started (and set their priority).
      const path = join(dir, 'strip.raw');
      await writeFile(path, new Uint8Array(64).fill(9));
      const layout = { width: 8, height: 8, channels: 1, depth: 8 } as const;
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
