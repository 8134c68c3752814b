import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isZkError, type ZkSession } from '../../src/coordination/index.js';
import type { ZookeeperServer } from '../../src/local/zookeeper-server.js';
import { startTestCluster, uploadFile, waitForJob } from '../support/cluster.js';
import { lowContrastImage, writeImage } from '../support/images.js';
import { Cleanup, openSession, startServer } from '../support/zk.js';

const AUTH = 'histeq:correct-horse-battery';
const cleanup = new Cleanup();
let server: ZookeeperServer;

before(async () => {
  server = await startServer(cleanup);
});
after(() => cleanup.run());

const noAuth = (err: unknown) => isZkError(err, 'NO_AUTH');

describe('ZK_AUTH digest ACLs', () => {
  it('znodes created with auth (create and multi) are closed to other identities', async () => {
    const owner = await openSession(cleanup, server, 'zk-auth', 'owner', { auth: AUTH });
    await owner.create('/secure', '{"a":1}');
    await owner.multi().create('/secure/child', 'x').setData('/secure', '{"a":2}').commit();
    const anonymous: ZkSession = await openSession(cleanup, server, 'zk-auth', 'anonymous');
    const wrong = await openSession(cleanup, server, 'zk-auth', 'wrong', {
      auth: 'histeq:not-the-password',
    });
    for (const s of [anonymous, wrong]) {
      await assert.rejects(s.getData('/secure'), noAuth);
      await assert.rejects(s.getData('/secure/child'), noAuth);
      await assert.rejects(s.setData('/secure', 'changed'), noAuth);
      await assert.rejects(s.create('/secure/intruder', ''), noAuth);
    }
    const peer = await openSession(cleanup, server, 'zk-auth', 'peer', { auth: AUTH });
    assert.equal((await peer.getData('/secure')).data.toString(), '{"a":2}');
  });

  it('a cluster with ZK_AUTH runs jobs, and a client without it cannot read or change them', async () => {
    const tc = await startTestCluster({ pods: 2, env: { ZK_AUTH: AUTH } });
    try {
      const path = join(tc.dir, 'auth.png');
      await writeImage(lowContrastImage(80, 60, 1, 8, 3), path, 'png');
      const res = await uploadFile(tc.url, await readFile(path), 'auth.png');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const job = await waitForJob(tc.url, res.body.job_id as string);
      assert.equal(job.state, 'done', job.error);
      const outsider = await openSession(cleanup, tc.zk, 'zk-auth', 'outsider');
      await assert.rejects(outsider.getData(`/jobs/${job.id}`), noAuth);
      await assert.rejects(outsider.setData(`/jobs/${job.id}`, '{}'), noAuth);
      await assert.rejects(outsider.getChildren('/nodes'), noAuth);
      const insider = await openSession(cleanup, tc.zk, 'zk-auth', 'insider', { auth: AUTH });
      const record = JSON.parse((await insider.getData(`/jobs/${job.id}`)).data.toString()) as {
        state: string;
      };
      assert.equal(record.state, 'done');
    } finally {
      await tc.close();
    }
  });
});
