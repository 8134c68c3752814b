import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sharedLayout } from '../../src/jobs/paths.js';
import { TaskExecutor } from '../../src/jobs/worker/task-executor.js';
import type { TaskPayload } from '../../src/jobs/task-spec.js';
import { ImagePool } from '../../src/pool/image-pool.js';
import { sha256 } from '../../src/pool/strip-io.js';
import { useTempDir } from '../support/paths.js';

/**
 * The executor keeps each job's LUT per pod, and the pool thread keeps tables; both must follow
 * what is on disk now, across jobs and bit depths on one thread.
 */
const dir = useTempDir('executor-');
let pool: ImagePool;
before(() => {
  pool = ImagePool.create({ threads: 1 });
});
after(() => pool.close());

const layout8 = { width: 64, height: 4, channels: 1, depth: 8 } as const;
const layout16 = { width: 32, height: 4, channels: 1, depth: 16 } as const;

function task(kind: 'equalize', job: string, depth: 8 | 16, output: string): TaskPayload {
  const layout = depth === 8 ? layout8 : layout16;
  return {
    kind,
    job,
    index: 0,
    source: { path: `work/${job}/source.raw`, offset: 0, layout },
    mode: 'luma',
    output,
    lut: `work/${job}/lut.bin`,
  };
}

async function put(relative: string, bytes: Uint8Array): Promise<void> {
  const path = join(dir(), relative);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, bytes);
}

describe('task executor', () => {
  it('a LUT file written again is read again, across 8- and 16-bit jobs on one thread', async () => {
    const shared = sharedLayout(dir());
    const executor = new TaskExecutor(pool, shared);
    const pixels8 = new Uint8Array(256).map((_, i) => i);
    const pixels16 = new Uint16Array(128).map((_, i) => i * 500);
    await put('work/a/source.raw', pixels8);
    await put('work/b/source.raw', new Uint8Array(pixels16.buffer));
    const invert8 = new Uint8Array(256).map((_, v) => 255 - v);
    const halve8 = new Uint8Array(256).map((_, v) => v >> 1);
    const invert16 = new Uint16Array(65536).map((_, v) => 65535 - v);

    const run = async (job: string, depth: 8 | 16, lut: Uint8Array) => {
      await put(`work/${job}/lut.bin`, lut);
      const out = `work/${job}/strip_0.raw`;
      const result = await executor.run(task('equalize', job, depth, out), 1);
      const written = await readFile(join(dir(), out));
      assert.equal(result.checksum, sha256(written), 'the checksum is of the bytes written');
      return new Uint8Array(written);
    };
    assert.deepEqual(
      await run('a', 8, invert8),
      pixels8.map((v) => 255 - v),
    );
    const deep = await run('b', 16, new Uint8Array(invert16.buffer));
    assert.deepEqual(
      new Uint16Array(deep.buffer),
      pixels16.map((v) => 65535 - v),
    );
    // Same job, same path, new content: never the cached LUT, never the 16-bit table.
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(
      await run('a', 8, halve8),
      pixels8.map((v) => v >> 1),
    );
  });

  it('the pool check finds a wrong row and a wrong checksum, and passes a right strip', async () => {
    const source = join(dir(), 'check-source.raw');
    const result = join(dir(), 'check-result.raw');
    const pixels = new Uint8Array(64 * 4).map((_, i) => i % 200);
    const lut = new Uint8Array(256).map((_, v) => 255 - v);
    const mapped = pixels.map((v) => 255 - v);
    await writeFile(source, pixels);
    await writeFile(result, mapped);
    const request = {
      result: { path: result, offset: 0, layout: layout8 },
      source: { path: source, offset: 0, layout: layout8 },
      checksum: sha256(mapped),
      rows: [0, 2, 3],
      mode: 'luma' as const,
      lut,
    };
    assert.deepEqual(await pool.verify(request), { problem: null });
    assert.match(
      (await pool.verify({ ...request, checksum: sha256(pixels) })).problem ?? '',
      /checksum/,
    );
    const spoiled = mapped.slice();
    spoiled[2 * 64 + 5] ^= 1;
    await writeFile(result, spoiled);
    assert.match(
      (await pool.verify({ ...request, checksum: sha256(spoiled) })).problem ?? '',
      /^row 2 differs .* at byte 5$/,
    );
  });
});
