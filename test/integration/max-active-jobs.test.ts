import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { io } from 'socket.io-client';
import { loadConfig } from '../../src/config.js';
import type { JobStatusEvent, JobView } from '../../src/jobs/types.js';
import { readLocalMaster } from '../../src/cluster/local-labeler.js';
import {
  eventually,
  startTestCluster,
  uploadFile,
  waitForJob,
  type TestCluster,
} from '../support/cluster.js';
import { solidPng } from '../support/images.js';

describe('MAX_ACTIVE_JOBS', () => {
  let tc: TestCluster;
  before(async () => {
    tc = await startTestCluster({
      pods: 3,
      env: {
        MAX_ACTIVE_JOBS: '1',
        // The first job runs long enough to watch the second one wait.
        FAULT_INJECTION: JSON.stringify({ delayMs: { stitch: 2000 } }),
      },
    });
  });
  after(() => tc?.close());

  const view = async (id: string) =>
    (await (await fetch(`${tc.url}/api/jobs/${id}`)).json()) as JobView;
  /** null while no master answers (during fail-over). */
  const views = async (ids: string[]) => {
    const res = await fetch(`${tc.url}/api/jobs`).catch(() => null);
    if (!res?.ok) return null;
    const all = (await res.json()) as JobView[];
    return ids.map((id) => all.find((j) => j.id === id)!);
  };

  const stagedSource = (id: string) => join(tc.dir, 'shared', 'work', id, 'source.raw');

  it('defaults to 4', () => {
    assert.equal(loadConfig({}).maxActiveJobs, 4);
    assert.throws(() => loadConfig({ MAX_ACTIVE_JOBS: '0' }), /MAX_ACTIVE_JOBS/);
  });

  it('runs one job at a time; the second stays visibly queued until the first is done', async () => {
    const socket = io(tc.url, { transports: ['websocket'] });
    const events: JobStatusEvent[] = [];
    socket.on('job_status', (e: JobStatusEvent) => events.push(e));
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const a = await uploadFile(tc.url, await solidPng(50), 'a.png');
      const b = await uploadFile(tc.url, await solidPng(90), 'b.png');
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      const [first, second] = [String(a.body.job_id), String(b.body.job_id)];

      let checks = 0;
      let firstStaged = false;
      for (;;) {
        const [one, two] = await Promise.all([view(first), view(second)]);
        if (one.state === 'done') break;
        firstStaged ||= existsSync(stagedSource(first));
        assert.notEqual(one.state, 'failed');
        assert.equal(two.state, 'queued', `second job started while the first was ${one.state}`);
        assert.equal(two.msg, 'waiting: 1 job ahead');
        // Its decode is the runner's first step, under the limit: not done at upload time.
        assert.equal(existsSync(stagedSource(second)), false, 'a waiting job was decoded');
        checks++;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(checks > 5, 'the first job ran long enough to watch the queue');
      assert.ok(firstStaged, 'the running job was decoded into its staged source');
      assert.equal((await waitForJob(tc.url, second)).state, 'done');
      assert.ok(
        events.some(
          (e) => e.id === second && e.state === 'queued' && e.msg === 'waiting: 1 job ahead',
        ),
        'job_status told the browsers the second job was waiting',
      );
    } finally {
      socket.close();
    }
  });

  it('keeps the queue across a master fail-over and starts the queued jobs in order', async () => {
    const ids: string[] = [];
    for (const seed of [30, 70, 110]) {
      const res = await uploadFile(tc.url, await solidPng(seed), `j${seed}.png`);
      assert.equal(res.status, 200);
      ids.push(String(res.body.job_id));
    }
    const [first, second, third] = ids as [string, string, string];
    await eventually('the first job to start', async () => (await view(first)).state !== 'queued');
    assert.equal((await view(third)).msg, 'waiting: 2 jobs ahead');

    const master = await readLocalMaster(tc.cluster.registryPath);
    assert.ok(master);
    tc.cluster.killPod(master.pod, 'SIGKILL');

    // Sampled through the fail-over: never two jobs under way, and never out of order.
    const active = (v: JobView) => v.state !== 'queued' && v.state !== 'done';
    await eventually(
      'all three jobs to finish after the fail-over',
      async () => {
        const v = await views(ids);
        if (!v) return false;
        assert.ok(
          v.every((j) => j.state !== 'failed'),
          JSON.stringify(v),
        );
        assert.ok(v.filter(active).length <= 1, `two jobs ran at once: ${JSON.stringify(v)}`);
        if (v[2]!.state !== 'queued') assert.equal(v[1]!.state, 'done', 'the third started first');
        if (v[1]!.state !== 'queued') assert.equal(v[0]!.state, 'done', 'the second started first');
        return v.every((j) => j.state === 'done');
      },
      60_000,
    );
    const { masters } = await view(second);
    assert.ok(
      masters.length >= 2,
      `the second job ran under the new master: ${masters.join(', ')}`,
    );
  });
});
