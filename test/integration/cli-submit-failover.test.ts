import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readLocalMaster } from '../../src/cluster/local-labeler.js';
import type { JobView } from '../../src/jobs/types.js';
import { eventually, startTestCluster, type TestCluster } from '../support/cluster.js';
import { runHisteq } from '../support/cli-run.js';
import { lowContrastImage, writeImage } from '../support/images.js';

let tc: TestCluster;
let dir: string;

before(async () => {
  [tc, dir] = await Promise.all([
    // Slow map tasks, so the kill reliably lands while the job runs.
    startTestCluster({
      pods: 3,
      env: { FAULT_INJECTION: JSON.stringify({ delayMs: { histogram: 2500 } }) },
    }),
    mkdtemp(join(tmpdir(), 'cli-failover-')),
  ]);
});
after(async () => {
  await Promise.all([tc?.close(), rm(dir, { recursive: true, force: true })]);
});

describe('histeq submit across a master failover', () => {
  it('follows the job to the new master and downloads the exact result', async () => {
    const input = join(dir, 'failover.tif');
    await writeImage(lowContrastImage(320, 240, 1, 8, 21), input, 'tiff');
    const reference = join(dir, 'reference.tif');
    assert.equal((await runHisteq(['equalize', input, reference])).code, 0);

    const out = join(dir, 'out.tif');
    const submitted = runHisteq(['submit', input, '--server', tc.url, '--out', out], {}, 150_000);
    const job = await eventually('the job to run', async () => {
      const res = await fetch(`${tc.url}/api/jobs`).catch(() => null);
      const jobs = res?.ok ? ((await res.json()) as JobView[]) : [];
      return jobs.find((j) => j.name === 'failover.tif' && j.state === 'mapping');
    });
    const master = await readLocalMaster(tc.cluster.registryPath);
    assert.ok(master && tc.cluster.killPod(master.pod, 'SIGKILL'), 'the master was running');

    const run = await submitted;
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await readFile(out), await readFile(reference));
    const view = (await (await fetch(`${tc.url}/api/jobs/${job.id}`)).json()) as JobView;
    assert.ok(view.masters.length >= 2, `masters: ${view.masters.join(', ')}`);
  });
});
