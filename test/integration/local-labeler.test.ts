import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { LocalRoleLabeler, readLocalMaster } from '../../src/cluster/local-labeler.js';
import { captureLogger } from '../support/capture-logger.js';

describe('LocalRoleLabeler', () => {
  let root: string;
  let registry: string;
  let n = 0;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'histeq-registry-'));
  });
  beforeEach(() => {
    registry = path.join(root, `case-${++n}`, 'master.json'); // parent created by the labeler
  });
  after(() => rm(root, { recursive: true, force: true }));

  const local = (pod: string, pid: number) =>
    new LocalRoleLabeler({
      registryPath: registry,
      pod,
      url: `http://127.0.0.1:${pid}`,
      pid,
      logger: captureLogger().logger,
    });

  it('writes, reads and steps down, never removing a newer master', async () => {
    assert.equal(await readLocalMaster(registry), null);
    const a = local('pod-a', 1001);
    const b = local('pod-b', 1002);
    await a.becomeMaster();
    const first = await readLocalMaster(registry);
    assert.equal(first?.pod, 'pod-a');
    assert.equal(first?.url, 'http://127.0.0.1:1001');
    assert.equal(first?.pid, 1001);
    assert.ok(!Number.isNaN(Date.parse(first?.since ?? '')));

    await a.becomeMaster(); // idempotent: `since` says when it took over
    assert.equal((await readLocalMaster(registry))?.since, first?.since);

    await b.becomeMaster();
    await a.stepDown(); // stale master stepping down late must not clear pod-b
    assert.equal((await readLocalMaster(registry))?.pod, 'pod-b');
    await b.stepDown();
    await b.stepDown();
    assert.equal(await readLocalMaster(registry), null);
    assert.deepEqual(await readdir(path.dirname(registry)), [], 'no temp files left');
  });

  it('treats a corrupt registry as no master', async () => {
    await mkdir(path.dirname(registry), { recursive: true });
    await writeFile(registry, '{"pod": "x", "url":');
    assert.equal(await readLocalMaster(registry), null);
    await writeFile(registry, JSON.stringify({ pod: 'x', url: 'u', pid: 'nope', since: 's' }));
    assert.equal(await readLocalMaster(registry), null);
  });

  it('readers never see a half-written registry while masters change', async () => {
    const a = local('pod-a', 2001);
    const b = local('pod-b', 2002);
    await a.becomeMaster();
    let writing = true;
    let reads = 0;
    const reader = (async () => {
      while (writing) {
        const text = await readFile(registry, 'utf8').catch(() => null);
        if (text !== null) {
          const parsed = JSON.parse(text) as { pod: string };
          assert.ok(parsed.pod === 'pod-a' || parsed.pod === 'pod-b');
          reads++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 100; i++) await (i % 2 ? a : b).becomeMaster();
    writing = false;
    await reader;
    assert.ok(reads > 0);
    await a.close();
    await b.close();
    assert.equal(await readLocalMaster(registry), null);
  });
});
