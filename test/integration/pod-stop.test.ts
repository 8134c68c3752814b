import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { podLog } from '../../src/chaos/probes.js';
import { eventually, startTestCluster, uploadFile, type TestCluster } from '../support/cluster.js';
import { solidPng } from '../support/images.js';

describe('a pod stopping while a job runner waits to retry', () => {
  let tc: TestCluster;
  before(async () => {
    tc = await startTestCluster({ pods: 1 });
  });
  after(() => tc?.close());

  it('stops promptly: the retry backoff is cut short', { timeout: 90_000 }, async () => {
    const { pod } = await tc.cluster.waitForMaster();
    const logs = join(tc.dir, 'logs');
    // A file where the results folder belongs: publishing fails every time (not the job's
    // fault), so the runner retries with a growing backoff.
    await writeFile(join(tc.dir, 'shared', 'results'), 'not a folder');
    const upload = await uploadFile(tc.url, await solidPng(7), 'blocked.png');
    assert.equal(upload.status, 200, JSON.stringify(upload.body));
    const failedSteps = async () =>
      (await podLog(logs, pod)).filter((l) => l.msg === 'job step failed');
    // After the fourth failure the runner waits 4 s before its fifth attempt.
    await eventually(
      'the fourth failed job step',
      async () => (await failedSteps()).length >= 4,
      40_000,
      25,
    );

    await tc.cluster.pod(pod)!.stop(10_000);

    const lines = await podLog(logs, pod);
    const at = (msg: string) => Date.parse(lines.find((l) => l.msg === msg)?.time ?? '');
    const stopMs = at('stopped') - at('stopping');
    assert.ok(Number.isFinite(stopMs), 'the pod logged its stop');
    assert.ok(stopMs < 2_000, `the pod took ${stopMs} ms to stop`);
    assert.equal((await failedSteps()).length, 4, 'no retry ran after the stop');
  });
});
