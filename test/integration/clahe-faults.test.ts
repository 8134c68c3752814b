import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { lockHolders } from '../../src/chaos/probes.js';
import type { ZkSession } from '../../src/coordination/index.js';
import { PARAMS_PATH } from '../../src/jobs/paths.js';
import { decodeRaw, lowContrastImage, writeImage } from '../support/images.js';
import {
  eventually,
  startTestCluster,
  uploadFile,
  waitForJob,
  type TestCluster,
} from '../support/cluster.js';
import { CLI } from '../support/paths.js';
import { Cleanup, openSession } from '../support/zk.js';

const exec = promisify(execFile);
const cleanup = new Cleanup();
let tc: TestCluster;
let admin: ZkSession;

before(async () => {
  // Every equalize attempt takes 2.5 s longer: long enough to kill a pod in the middle of one.
  const faults = JSON.stringify({ delayMs: { equalize: 2500 } });
  tc = await startTestCluster({ pods: 3, env: { FAULT_INJECTION: faults } });
  admin = await openSession(cleanup, tc.zk, 'clahe-faults', 'admin');
});
after(async () => {
  await cleanup.run();
  await tc?.close();
});

describe('CLAHE under faults', () => {
  it('a worker killed (-9) during a CLAHE equalize task: the job still ends exact', async () => {
    const image = lowContrastImage(240, 180, 1, 8, 41);
    const input = join(tc.dir, 'clahe-kill.tif');
    await writeImage(image, input, 'tiff');
    const args = ['--method', 'clahe', '--clip-limit', '3', '--tiles', '4x6'];
    await exec('node', [CLI, 'equalize', input, `${input}.cli.tif`, ...args]);
    const expected = await decodeRaw(`${input}.cli.tif`, image);

    await admin.ensurePath(PARAMS_PATH);
    await admin.setData(PARAMS_PATH, JSON.stringify({ tasks_per_job: 7 }));
    await new Promise((r) => setTimeout(r, 300)); // the pods learn it through their watch
    const fields = { method: 'clahe', clip_limit: '3', tiles: '4x6' };
    const res = await uploadFile(tc.url, await readFile(input), 'kill.tif', fields);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const id = res.body.job_id as string;
    const { master } = (await (await fetch(`${tc.url}/api/cluster`)).json()) as { master: string };
    const victim = await eventually(
      'a worker holding a CLAHE equalize task',
      async () => (await lockHolders(admin, id, 'equalize')).find((h) => h.pod !== master),
      60_000,
      25,
    );
    assert.ok(tc.cluster.killPod(victim.pod, 'SIGKILL'), `${victim.pod} was running`);

    const job = await waitForJob(tc.url, id, 120_000);
    assert.equal(job.state, 'done', job.error);
    const lost = job.attempts.find(
      (a) => a.kind === 'equalize' && a.index === victim.index && a.pod === victim.pod,
    );
    assert.equal(lost?.outcome, 'lost', JSON.stringify(job.attempts));
    const result = await fetch(`${tc.url}${job.url}`);
    assert.deepEqual(await decodeRaw(new Uint8Array(await result.arrayBuffer()), image), expected);
  });
});
