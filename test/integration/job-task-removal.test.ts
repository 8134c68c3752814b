import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seededRandom } from '../../src/common/random.js';
import type { ZkSession } from '../../src/coordination/index.js';
import { removeJobTasks } from '../../src/jobs/master/phase-tasks.js';
import { Cleanup, openSession, startServer, waitUntil } from '../support/zk.js';

const LOG = 'job-task-removal';

describe('removing a finished job’s task folders', () => {
  const cleanup = new Cleanup();
  let zk: ZkSession;
  let watcher: ZkSession;

  before(async () => {
    const server = await startServer(cleanup);
    zk = await openSession(cleanup, server, LOG, 'master');
    watcher = await openSession(cleanup, server, LOG, 'pod');
  });
  after(() => cleanup.run());

  /** Creates `tasks` tasks under `folder`, each with the children `childrenOf(i)`. */
  async function phase(folder: string, tasks: number, childrenOf: (i: number) => string[]) {
    await zk.ensurePath(folder);
    for (let i = 0; i < tasks; i++) {
      await zk.create(`${folder}/task_${i}`, '{}');
      for (const c of childrenOf(i)) await zk.create(`${folder}/task_${i}/${c}`, 'x');
    }
  }

  it('removes both phases in one transaction: a pod watching the job hears one change', async () => {
    const next = seededRandom(18);
    for (let round = 0; round < 4; round++) {
      const job = `/jobs/r${round}`;
      const folders = [`${job}/histograms`, `${job}/equalize`];
      const counts = folders.map(() => 1 + Math.floor(next() * 6));
      for (const [k, folder] of folders.entries()) {
        // Done tasks, plus the odd marker node beside them in the folder.
        await phase(folder, counts[k]!, () => ['done']);
        if (next() < 0.5) await zk.create(`${folder}/rerun_1`, '');
      }
      const seen: (string[] | null)[] = [];
      const stop = watcher.watchChildren(job, (c) => seen.push(c));
      await waitUntil(() => seen.length === 1, 5_000, 'watch armed');
      const multisBefore = zk.operations.multi ?? 0;
      await removeJobTasks(zk, folders);
      assert.equal((zk.operations.multi ?? 0) - multisBefore, 1, 'one transaction');
      for (const folder of folders) assert.equal(await zk.exists(folder), null);
      await waitUntil(() => seen.at(-1)?.length === 0, 5_000, 'the pod sees the folders go');
      assert.equal(seen.length, 2, 'one change for the whole removal');
      stop();
    }
  });

  it('takes the long way for a job too large for one transaction, and for missing folders', async () => {
    const job = '/jobs/large';
    const folders = [`${job}/histograms`, `${job}/equalize`];
    await phase(folders[0]!, 1001, () => []);
    await removeJobTasks(zk, folders);
    assert.equal(await zk.exists(folders[0]!), null);
    // Nothing left to remove: a repeat is harmless.
    await removeJobTasks(zk, folders);
  });
});
