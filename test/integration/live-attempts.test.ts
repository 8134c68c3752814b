import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TaskClaims, type ZkOp, type ZkSession } from '../../src/coordination/index.js';
import { JobStore } from '../../src/jobs/job-store.js';
import { LiveAttempts } from '../../src/jobs/master/live-view.js';
import { newJobId, taskPath, tasksPath } from '../../src/jobs/paths.js';
import { TaskBoards } from '../../src/jobs/shared-boards.js';
import type { JobAttemptsEvent } from '../../src/jobs/types.js';
import { jobRecord } from '../support/records.js';
import { Cleanup, openSession, startServer, testLogger, waitUntil } from '../support/zk.js';

const LOG = 'live-attempts';
const FENCE: ZkOp = { op: 'check', path: '/fence', version: 0 };

describe('live attempts pushed from the master’s task boards', () => {
  const cleanup = new Cleanup();
  let master: ZkSession;
  let worker: ZkSession;

  before(async () => {
    const server = await startServer(cleanup);
    master = await openSession(cleanup, server, LOG, 'master');
    worker = await openSession(cleanup, server, LOG, 'worker');
    await master.ensurePath('/fence');
  });
  after(() => cleanup.run());

  it('pushes each claim and result once, read only when a board changes', async () => {
    const id = newJobId();
    const store = new JobStore(master, () => FENCE);
    await store.create(jobRecord(id, { tasks: 2 }));
    for (const index of [0, 1]) {
      await master.ensurePath(tasksPath(id, 'histogram'));
      await master.create(taskPath(id, 'histogram', index), JSON.stringify({ attempt: 0 }));
    }
    const logger = testLogger(LOG, 'master');
    const claims = new TaskClaims({ session: master, logger, pod: 'master' });
    const live = new LiveAttempts({ boards: new TaskBoards(master), claims, store, logger });
    const events: JobAttemptsEvent[] = [];
    live.on('job_attempts', (e) => events.push(e));
    const outcomes = () => events.at(-1)?.attempts.map((a) => `${a.index}:${a.pod}:${a.outcome}`);

    live.track(id, 'mapping');
    const workerClaims = new TaskClaims({ session: worker, logger, pod: 'pod-2' });
    const claim = await workerClaims.claim(taskPath(id, 'histogram', 1));
    assert.ok(claim);
    await waitUntil(() => outcomes()?.join() === '1:pod-2:running', 5_000, 'the claim pushed');
    await workerClaims.complete(claim, { pointer: 'work/h1.bin', checksum: 'c1' });
    await waitUntil(() => outcomes()?.join() === '1:pod-2:done', 5_000, 'the result pushed');
    assert.deepEqual(live.latest(), [events.at(-1)], 'a late browser gets the last push');

    // Nothing changes: nothing is read and nothing pushed.
    const [pushed, reads] = [events.length, master.operations.getData ?? 0];
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(events.length, pushed, 'no push without a change');
    assert.equal(master.operations.getData ?? 0, reads, 'no reads without a change');

    // The job moves on: its board is left, and a finished job is forgotten.
    live.track(id, 'reducing');
    assert.equal(live.attemptsOf(id), events.at(-1), 'its attempts stay known');
    live.track(id, 'done');
    assert.equal(live.attemptsOf(id), null);
    await workerClaims.claim(taskPath(id, 'histogram', 0));
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(events.length, pushed, 'a job no longer followed is not read');
    live.close();
  });
});
