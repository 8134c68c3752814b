import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, useTempDir } from '../support/paths.js';

const exec = promisify(execFile);

/**
 * scripts/build-if-stale.sh in a scratch tree whose `tsc` only counts its runs (and fails when
 * told to): what is tested is when the script decides to build, not the compiler.
 */
describe('build-if-stale.sh builds only when an input changed', () => {
  const dir = useTempDir('build-stamp-');
  const runs = () =>
    readFile(join(dir(), 'runs'), 'utf8').then(
      (s) => s.length,
      () => 0,
    );
  const build = (...args: string[]) =>
    exec('bash', [join(dir(), 'scripts/build-if-stale.sh'), ...args], { timeout: 20_000 });
  /** Moves a file's times a minute back, as if it was saved long before the last build. */
  const age = (path: string) => {
    const past = new Date(Date.now() - 60_000);
    return utimes(path, past, past);
  };

  it('skips an unchanged tree, rebuilds after an edit, a deletion or a failed build', async () => {
    const root = dir();
    await mkdir(join(root, 'scripts'));
    await mkdir(join(root, 'node_modules/.bin'), { recursive: true });
    for (const d of ['src/sub', 'test', 'bench']) await mkdir(join(root, d), { recursive: true });
    await copyFile(
      join(REPO_ROOT, 'scripts/build-if-stale.sh'),
      join(root, 'scripts/build-if-stale.sh'),
    );
    const tsc = join(root, 'node_modules/.bin/tsc');
    await writeFile(tsc, '#!/bin/sh\nprintf x >> runs\n[ ! -f fail ]\n');
    await chmod(tsc, 0o755);
    for (const f of ['src/a.ts', 'src/sub/b.ts', 'tsconfig.json', 'package-lock.json']) {
      await writeFile(join(root, f), '');
      await age(join(root, f));
    }
    for (const d of ['src/sub', 'src', 'test', 'bench']) await age(join(root, d));

    await build();
    assert.equal(await runs(), 1, 'no stamp yet: builds');
    await build();
    assert.equal(await runs(), 1, 'nothing changed: no build');

    await writeFile(join(root, 'src/sub/b.ts'), 'export const b = 1;\n');
    await build();
    assert.equal(await runs(), 2, 'an edited source: builds');
    await build();
    assert.equal(await runs(), 2);

    await rm(join(root, 'src/a.ts'));
    await build();
    assert.equal(await runs(), 3, 'a deleted source: builds');

    await writeFile(join(root, 'fail'), '');
    await writeFile(join(root, 'tsconfig.json'), '{}');
    await assert.rejects(build());
    await rm(join(root, 'fail'));
    await build();
    assert.equal(await runs(), 5, 'after a failed build the next call builds again');

    await build('--force');
    assert.equal(await runs(), 6, '--force always builds');
  });
});
