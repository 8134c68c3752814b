import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ACL, createClient, Id, Permission } from 'node-zookeeper-client';
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

  it('ensurePath closes an open node it finds, and refuses one it may not close', async () => {
    const outsider = await openSession(cleanup, server, 'zk-auth', 'outsider-open');
    await outsider.create('/opened', '');
    const owner = await openSession(cleanup, server, 'zk-auth', 'owner-open', { auth: AUTH });
    await owner.ensurePath('/opened/child');
    await assert.rejects(outsider.create('/opened/intruder', ''), noAuth);
    await assert.rejects(outsider.setData('/opened', 'changed'), noAuth);
    await assert.rejects(outsider.remove('/opened/child'), noAuth);

    // Open to everyone except for changing the ACL: we cannot close it, so we refuse it.
    const raw = createClient(server.connectionString);
    const connected = new Promise<void>((resolve) => raw.once('connected', () => resolve()));
    raw.connect();
    await connected;
    try {
      const perms = Permission.READ | Permission.WRITE | Permission.CREATE | Permission.DELETE;
      await new Promise<void>((resolve, reject) =>
        raw.create('/stuck', Buffer.alloc(0), [new ACL(perms, new Id('world', 'anyone'))], (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    } finally {
      raw.close();
    }
    await assert.rejects(owner.ensurePath('/stuck/child'), (err: unknown) => {
      assert.ok(isZkError(err, 'OPEN_ACL'), String(err));
      assert.match((err as Error).message, /\/stuck is not protected by ZK_AUTH/);
      return true;
    });
    // Without ZK_AUTH nothing is checked: an open cluster stays open as before.
    await outsider.ensurePath('/stuck/plain');
  });

  it('the local ZooKeeper answers only the four-letter words the launcher needs', async () => {
    assert.match(await server.fourLetterWord('srvr'), /^Mode: /m);
    assert.match(await server.fourLetterWord('ruok'), /imok/);
    for (const word of ['dump', 'cons', 'wchc', 'wchp', 'conf', 'mntr', 'stat']) {
      assert.match(await server.fourLetterWord(word), /not in the whitelist/, word);
    }
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
      // The live tunables are protected like the rest: no one else may create or change them.
      await assert.rejects(
        outsider.setData('/config/mapreduce_params', '{"tasks_per_job":4096}'),
        noAuth,
      );
      await assert.rejects(outsider.create('/config/other', ''), noAuth);
      await assert.rejects(outsider.remove('/config/mapreduce_params'), noAuth);
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
