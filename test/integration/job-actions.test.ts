import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ZkSession } from '../../src/coordination/index.js';
import { readLocalMaster } from '../../src/cluster/local-labeler.js';
import { jobPath } from '../../src/jobs/paths.js';
import type { JobView } from '../../src/jobs/types.js';
import {
  eventually,
  startTestCluster,
  uploadFile,
  waitForJob,
  type TestCluster,
} from '../support/cluster.js';
import { solidPng } from '../support/images.js';
import { Cleanup, openSession } from '../support/zk.js';

/**
 * Cancel, retry, re-run and delete through the HTTP API of a real local cluster. Histogram
 * tasks are slowed down, so a job is reliably caught while its tasks run.
 */
describe('job actions', () => {
  let tc: TestCluster;
  let zk: ZkSession;
  const cleanup = new Cleanup();
  before(async () => {
    tc = await startTestCluster({
      pods: 3,
      env: {
        FAULT_INJECTION: JSON.stringify({ delayMs: { histogram: 2500 } }),
        // Two jobs at a time, so a third one is caught waiting in the queue.
        MAX_ACTIVE_JOBS: '2',
      },
    });
    zk = await openSession(cleanup, tc.zk, 'job-actions', 'test');
  });
  after(async () => {
    await cleanup.run();
    await tc?.close();
  });

  const shared = () => tc.cluster.sharedDir;
  const post = (path: string, body?: unknown) =>
    fetch(`${tc.url}${path}`, {
      method: 'POST',
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
    });
  const view = async (id: string) =>
    (await (await fetch(`${tc.url}/api/jobs/${id}`)).json()) as JobView;
  const submit = async (seed: number) => {
    const up = await uploadFile(tc.url, await solidPng(seed), `img-${seed}.png`);
    assert.equal(up.status, 200, JSON.stringify(up.body));
    return String(up.body.job_id);
  };
  const running = (id: string) =>
    eventually(`job ${id} mapping`, async () => (await view(id)).state === 'mapping', 30_000);
  /** Cleaned up: no task folders under the record, no work folder, no result or preview. */
  const cleanedUp = (id: string) =>
    eventually(
      `job ${id} cleaned up`,
      async () => {
        const children = await zk.getChildren(jobPath(id)).catch(() => ['?']);
        const work = await readdir(join(shared(), 'work')).catch(() => [] as string[]);
        const results = await readdir(join(shared(), 'results')).catch(() => [] as string[]);
        return (
          children.length === 0 &&
          !work.includes(id) &&
          !results.some((name) => name.startsWith(`${id}.`))
        );
      },
      20_000,
    );
  const podLogs = async () => {
    const names = await readdir(tc.cluster.logDir);
    const texts = await Promise.all(names.map((n) => readFile(join(tc.cluster.logDir, n), 'utf8')));
    return texts.join('\n');
  };

  it('cancels a running job: cancelled at once, tasks stopped and removed, no result', async () => {
    const id = await submit(40);
    await running(id);
    const started = Date.now();
    const res = await post(`/api/jobs/${id}/cancel`);
    assert.equal(res.status, 202);
    assert.equal(((await res.json()) as JobView).state, 'cancelled');
    assert.equal((await view(id)).state, 'cancelled');
    await cleanedUp(id);
    assert.ok(Date.now() - started < 10_000, 'the cleanup took seconds, not a task timeout');
    // The delayed tasks were claimed before the cancel; they stop instead of finishing.
    await eventually('a task stopped by the cancel', async () =>
      (await podLogs()).includes('task stopped: its tasks were removed'),
    );
    const final = await view(id);
    assert.equal(final.state, 'cancelled');
    assert.equal(final.url, undefined);

    const again = await post(`/api/jobs/${id}/cancel`);
    assert.equal(again.status, 409);
    assert.match(((await again.json()) as { error: string }).error, /already ended/);
  });

  it('cancels a job waiting for its turn; the running ones go on', async () => {
    const [a, b, c] = [await submit(41), await submit(42), await submit(43)];
    await eventually('the third job waiting', async () =>
      (await view(c)).msg.startsWith('waiting'),
    );
    const res = await post(`/api/jobs/${c}/cancel`);
    assert.equal(res.status, 202);
    await cleanedUp(c);
    for (const id of [a, b]) assert.equal((await waitForJob(tc.url, id)).state, 'done');
    assert.equal((await view(c)).state, 'cancelled');
  });

  it('retries a cancelled job from its upload as a new job, and re-runs with other options', async () => {
    const id = await submit(60);
    await running(id);
    assert.equal((await post(`/api/jobs/${id}/retry`)).status, 409, 'running: no retry');
    assert.equal((await post(`/api/jobs/${id}/cancel`)).status, 202);

    const retried = await post(`/api/jobs/${id}/retry`);
    assert.equal(retried.status, 202);
    const { job_id: again } = (await retried.json()) as { job_id: string };
    assert.notEqual(again, id);
    const done = await waitForJob(tc.url, again);
    assert.equal(done.state, 'done', done.error);
    assert.equal(done.retryOf, id);
    assert.deepEqual(done.options, (await view(id)).options);
    assert.equal((await fetch(`${tc.url}${done.url}`)).status, 200);

    const rerun = await post(`/api/jobs/${again}/retry`, { mode: 'per-channel' });
    assert.equal(rerun.status, 202);
    const other = await waitForJob(tc.url, ((await rerun.json()) as { job_id: string }).job_id);
    assert.equal(other.state, 'done', other.error);
    assert.deepEqual(other.options, { ...done.options, mode: 'per-channel' });

    const bad = await post(`/api/jobs/${again}/retry`, { mode: 'sideways' });
    assert.equal(bad.status, 400);
    assert.equal((await post('/api/jobs/nojob00-0123abcd/retry')).status, 404);
  });

  it('deletes a finished job with its result, previews and upload; a running one is cancelled first', async () => {
    const id = await submit(80);
    const done = await waitForJob(tc.url, id);
    assert.equal(done.state, 'done', done.error);
    assert.equal((await fetch(`${tc.url}${done.url}`)).status, 200);
    const uploadsBefore = await readdir(join(shared(), 'uploads'));

    const res = await fetch(`${tc.url}/api/jobs/${id}`, { method: 'DELETE' });
    assert.equal(res.status, 204);
    assert.equal((await fetch(`${tc.url}/api/jobs/${id}`)).status, 404);
    assert.equal((await fetch(`${tc.url}${done.url}`)).status, 404);
    assert.equal((await fetch(`${tc.url}/api/jobs/${id}/preview/out`)).status, 404);
    const results = await readdir(join(shared(), 'results'));
    assert.deepEqual(
      results.filter((n) => n.startsWith(`${id}.`)),
      [],
    );
    assert.equal((await readdir(join(shared(), 'uploads'))).length, uploadsBefore.length - 1);
    assert.equal(await zk.exists(jobPath(id)), null);
    const list = (await (await fetch(`${tc.url}/api/jobs`)).json()) as JobView[];
    assert.ok(!list.some((j) => j.id === id), 'gone from the list');

    const live = await submit(90);
    await running(live);
    assert.equal((await fetch(`${tc.url}/api/jobs/${live}`, { method: 'DELETE' })).status, 204);
    assert.equal((await fetch(`${tc.url}/api/jobs/${live}`)).status, 404);
    assert.equal(await zk.exists(jobPath(live)), null);
    assert.equal((await fetch(`${tc.url}/api/jobs/${live}`, { method: 'DELETE' })).status, 404);
  });

  it('finishes a cancel after the master dies right behind it', { timeout: 120_000 }, async () => {
    const id = await submit(100);
    await running(id);
    const master = await readLocalMaster(tc.cluster.registryPath);
    assert.ok(master);
    const res = await post(`/api/jobs/${id}/cancel`);
    assert.equal(res.status, 202);
    tc.cluster.killPod(master.pod, 'SIGKILL');
    await eventually(
      'a new master',
      async () => {
        const now = await readLocalMaster(tc.cluster.registryPath);
        return now && now.pod !== master.pod ? now : null;
      },
      60_000,
    );
    await tc.cluster.waitForMaster();
    await cleanedUp(id);
    assert.equal((await view(id)).state, 'cancelled');
    // The cluster still works: a new job runs to the end.
    const after = await waitForJob(tc.url, await submit(110));
    assert.equal(after.state, 'done', after.error);
  });
});
