import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ZkSession } from '../../src/coordination/index.js';
import type { ZookeeperServer } from '../../src/local/zookeeper-server.js';
import { releaseOrphanLocks } from '../../src/jobs/worker/orphan-locks.js';
import { Cleanup, openSession, startServer } from '../support/zk.js';

const cleanup = new Cleanup();
let server: ZookeeperServer;
let mine: ZkSession;
let theirs: ZkSession;

before(async () => {
  server = await startServer(cleanup);
  mine = await openSession(cleanup, server, 'orphans', 'mine');
  theirs = await openSession(cleanup, server, 'orphans', 'theirs');
});
after(() => cleanup.run());

describe('releaseOrphanLocks', () => {
  it('removes only locks held by our current session', async () => {
    await mine.ensurePath('/orphans/job/histograms/task_0');
    await mine.ensurePath('/orphans/job/histograms/task_1');
    await mine.ensurePath('/orphans/job/histograms/task_2');
    // As if a claim's answer was lost: our session holds the lock but no task runs here.
    await mine.create('/orphans/job/histograms/task_0/lock', '{}', 'ephemeral');
    await theirs.create('/orphans/job/histograms/task_1/lock', '{}', 'ephemeral');
    const tasks = [0, 1, 2].map((i) => `/orphans/job/histograms/task_${i}`);
    assert.deepEqual(await releaseOrphanLocks(mine, tasks), [tasks[0]]);
    assert.equal(await mine.exists(`${tasks[0]}/lock`), null);
    assert.notEqual(await mine.exists(`${tasks[1]}/lock`), null, "another pod's claim stays");
  });
});
