import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Membership, TaskClaims, type ZkSession } from '../../src/coordination/index.js';
import { sharedLayout } from '../../src/jobs/paths.js';
import { TaskBoards } from '../../src/jobs/shared-boards.js';
import { TaskExecutor } from '../../src/jobs/worker/task-executor.js';
import { TaskWorker } from '../../src/jobs/worker/task-worker.js';
import { ClusterState } from '../../src/pod/cluster-state.js';
import { ImagePool } from '../../src/pool/image-pool.js';
import type { WebEvents } from '../../src/web/deps.js';
import { Cleanup, openSession, startServer, testLogger } from '../support/zk.js';

const LOG = 'state-listeners';

describe('parts that follow the session stop following it when stopped', () => {
  const cleanup = new Cleanup();
  let session: ZkSession;

  before(async () => {
    const server = await startServer(cleanup);
    session = await openSession(cleanup, server, LOG, 'pod-1');
    await session.ensurePath('/jobs');
  });
  after(() => cleanup.run());

  it('the task loop and the cluster view remove their state listeners', async () => {
    const logger = testLogger(LOG, 'pod-1');
    const dir = await mkdtemp(join(tmpdir(), 'listeners-'));
    const pool = ImagePool.create({ threads: 1 });
    const membership = await Membership.create({
      session,
      logger,
      self: {
        pod: 'pod-1',
        url: 'http://127.0.0.1:1',
        pid: process.pid,
        role: 'worker',
        version: 'test',
      },
    });
    try {
      const listening = () => [session.listenerCount('state'), membership.listenerCount('change')];
      const before = listening();
      for (let round = 0; round < 3; round++) {
        const worker = new TaskWorker({
          session,
          boards: new TaskBoards(session),
          claims: new TaskClaims({ session, logger, pod: 'pod-1' }),
          executor: new TaskExecutor(pool, sharedLayout(dir)),
          logger,
          concurrency: 1,
          maxAttempts: 3,
        });
        const cluster = new ClusterState({
          session,
          membership,
          zkHosts: 'zk',
          minPods: 1,
          isLeader: () => false,
          tasksOf: () => undefined,
          events: new EventEmitter<WebEvents>(),
        });
        worker.start();
        assert.notDeepEqual(listening(), before, 'both follow the session while they run');
        worker.close();
        cluster.close();
        assert.deepEqual(listening(), before, `round ${round}: every listener removed`);
      }
    } finally {
      await membership.close();
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
