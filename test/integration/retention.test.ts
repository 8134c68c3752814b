import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { io } from 'socket.io-client';
import { loadConfig } from '../../src/config.js';
import type { JobView } from '../../src/jobs/types.js';
import {
  eventually,
  startTestCluster,
  uploadFile,
  waitForJob,
  type TestCluster,
} from '../support/cluster.js';
import { solidPng } from '../support/images.js';

describe('RESULT_TTL_HOURS retention', () => {
  let tc: TestCluster;
  before(async () => {
    tc = await startTestCluster({
      pods: 2,
      env: {
        // About 1 s: the master sweeps every second.
        RESULT_TTL_HOURS: '0.0003',
        // Keeps the second job active (before stitching) for longer than the TTL.
        FAULT_INJECTION: JSON.stringify({ delayMs: { stitch: 5000 } }),
      },
    });
  });
  after(() => tc?.close());

  const shared = (dir: string) => readdir(join(tc.dir, 'shared', dir)).catch(() => []);
  const status = async (id: string) => (await fetch(`${tc.url}/api/jobs/${id}`)).status;

  it('defaults to 24 hours and takes fractions', () => {
    assert.equal(loadConfig({}).resultTtlMs, 24 * 3_600_000);
    assert.equal(loadConfig({ RESULT_TTL_HOURS: '0.5' }).resultTtlMs, 1_800_000);
    assert.throws(() => loadConfig({ RESULT_TTL_HOURS: '0' }), /RESULT_TTL_HOURS/);
  });

  it('prunes a finished job (record, result, previews, stats, upload) and leaves an active one alone', async (t) => {
    // An open page hears of each pruned job, as of a deleted one, and drops it.
    const socket = io(tc.url, { transports: ['websocket'] });
    t.after(() => socket.close());
    const deleted: string[] = [];
    socket.on('job_deleted', ({ id }: { id: string }) => deleted.push(id));
    const a = await uploadFile(tc.url, await solidPng(60), 'a.png');
    assert.equal(a.status, 200);
    const first = String(a.body.job_id);
    assert.equal((await waitForJob(tc.url, first)).state, 'done');

    const b = await uploadFile(tc.url, await solidPng(90), 'b.png');
    assert.equal(b.status, 200);
    const second = String(b.body.job_id);

    await eventually('the finished job to be pruned', async () => (await status(first)) === 404);
    await eventually('open pages to hear of it', () => deleted.includes(first));
    assert.ok(!deleted.includes(second), 'the active job is not announced as deleted');
    assert.deepEqual(
      (await shared('results')).filter((n) => n.startsWith(`${first}.`)),
      [],
      'result, previews and stats are gone',
    );
    // The active job: record, upload and work files are still there.
    const view = (await (await fetch(`${tc.url}/api/jobs/${second}`)).json()) as JobView;
    assert.notEqual(view.state, 'done');
    assert.notEqual(view.state, 'failed');
    assert.equal((await shared('uploads')).length, 1, 'only the active job keeps its upload');
    assert.deepEqual(await shared('work'), [second]);
    const listed = (await (await fetch(`${tc.url}/api/jobs`)).json()) as JobView[];
    assert.deepEqual(
      listed.map((j) => j.id),
      [second],
    );

    // It is pruned in turn once it has finished and aged.
    await waitForJob(tc.url, second, 30_000).catch(() => null);
    await eventually('the second job to be pruned', async () => (await status(second)) === 404);
    await eventually('open pages to hear of it', () => deleted.includes(second));
    assert.deepEqual(await shared('uploads'), []);
  });
});
