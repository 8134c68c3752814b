import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { JobView } from '../../src/jobs/types.js';
import type { HealthView } from '../../src/web/health/cluster-history.js';
import type { PodFigures } from '../../src/web/health/figures.js';
import { launchChromium } from '../support/browser.js';
import {
  eventually,
  startTestCluster,
  uploadFile,
  waitForJob,
  type TestCluster,
} from '../support/cluster.js';
import { lowContrastImage, writeImage } from '../support/images.js';

const TOKEN = 'health-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${TOKEN}` };

interface SettingsView {
  tasks_per_job: number | null;
  applied: { pod: string; tasks_per_job: number | null }[];
}

describe('cluster health over time and live settings, on a 3-pod cluster', () => {
  let tc: TestCluster;
  let dir: string;
  let browser: Browser;
  const get = async <T>(path: string, headers: Record<string, string> = auth) => {
    const res = await fetch(`${tc.url}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as T };
  };
  const put = async (body: unknown) => {
    const res = await fetch(`${tc.url}/api/settings`, {
      method: 'PUT',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as SettingsView & { error?: string } };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'health-'));
    [tc, browser] = await Promise.all([
      startTestCluster({ pods: 3, env: { API_TOKEN: TOKEN, HEALTH_SAMPLE_MS: '300' } }),
      launchChromium(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await tc?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('every pod reports its own figures, behind the token', async () => {
    const cluster = await eventually('three pods', async () => {
      const { body } = await get<{ pods: { pod: string; url: string }[] }>('/api/cluster');
      return body.pods?.length === 3 && body;
    });
    for (const pod of cluster.pods) {
      assert.equal((await fetch(`${pod.url}/figures`)).status, 401, `${pod.pod} without token`);
      const res = await fetch(`${pod.url}/figures`, { headers: auth });
      assert.equal(res.status, 200);
      const figures = (await res.json()) as PodFigures;
      assert.equal(figures.pod, pod.pod);
      assert.equal(figures.zk.state, 'connected');
      assert.ok(typeof figures.zk.roundTripMs === 'number' && figures.zk.roundTripMs >= 0);
      assert.ok(figures.pool.threads >= 1 && figures.rssBytes > 10e6, JSON.stringify(figures));
    }
    assert.equal((await get('/api/cluster/history', {})).status, 401);
  });

  it('the master keeps samples; throughput adds up to the pixels equalized', async () => {
    // Two samples before the job, so every pixel it equalizes falls inside the window.
    await eventually('two samples of three pods', async () => {
      const { body } = await get<HealthView>('/api/cluster/history');
      return (
        body.series.at.length >= 2 && body.pods.every((p) => p.figures) && body.pods.length === 3
      );
    });
    const [width, height] = [640, 480];
    const path = join(dir, 'grey.tif');
    await writeImage(lowContrastImage(width, height, 1, 8, 7), path, 'tiff');
    const res = await uploadFile(tc.url, await readFile(path), 'grey.tif', {}, auth);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const job = await waitForJob(tc.url, String(res.body.job_id), 60_000, auth);
    assert.equal(job.state, 'done');

    const view = await eventually('the job in the samples', async () => {
      const { body } = await get<HealthView>('/api/cluster/history');
      const done = body.pods.reduce((n, p) => n + (p.figures?.tasks.done ?? 0), 0);
      return done >= 2 * job.total && body;
    });
    const { at, megapixelsPerSecond, taskMeanMs, eventLoopDelayMs } = view.series;
    assert.equal(megapixelsPerSecond.length, at.length);
    let pixels = 0;
    for (let i = 1; i < at.length; i++)
      pixels += megapixelsPerSecond[i] * (at[i] - at[i - 1]) * 1e3;
    assert.ok(
      Math.abs(pixels - width * height) < 1,
      `${pixels} pixels, expected ${width * height}`,
    );
    assert.ok(
      taskMeanMs.some((ms) => ms !== null && ms > 0),
      'task durations were sampled',
    );
    assert.ok(
      eventLoopDelayMs.every((ms) => ms >= 0 && ms < 1000),
      'event-loop delays are sane',
    );
    for (const row of view.pods) {
      assert.ok(row.lastHeartbeatMsAgo !== null && row.lastHeartbeatMsAgo < 5_000, row.pod);
    }
  });

  it('tasks_per_job is changed behind the token and every pod applies it', async () => {
    const refused = await fetch(`${tc.url}/api/settings`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ tasks_per_job: 2 }),
    });
    assert.equal(refused.status, 401);
    for (const bad of [{ tasks_per_job: 0 }, { tasks_per_job: 2.5 }, { tasks: 2 }, [2]]) {
      const answer = await put(bad);
      assert.equal(answer.status, 400, JSON.stringify(bad));
      assert.match(String(answer.body.error), /^Send \{"tasks_per_job": N\} .*\.$/);
    }
    assert.equal((await put({ tasks_per_job: 2 })).status, 200);
    await eventually('every pod to apply 2', async () => {
      const { body } = await get<SettingsView>('/api/settings');
      return (
        body.tasks_per_job === 2 &&
        body.applied.length === 3 &&
        body.applied.every((a) => a.tasks_per_job === 2)
      );
    });
    const path = join(dir, 'split.tif');
    await writeImage(lowContrastImage(64, 64, 1, 8, 3), path, 'tiff');
    const res = await uploadFile(tc.url, await readFile(path), 'split.tif', {}, auth);
    const job = (await waitForJob(tc.url, String(res.body.job_id), 60_000, auth)) as JobView;
    assert.equal(job.total, 2, 'the new job was split into 2 tasks');
    assert.equal((await put({ tasks_per_job: null })).status, 200);
    await eventually('every pod to drop it', async () => {
      const { body } = await get<SettingsView>('/api/settings');
      return body.tasks_per_job === null && body.applied.every((a) => a.tasks_per_job === null);
    });
  });

  it('the page draws the charts, lists the pods and changes the setting', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    page.on('dialog', (dialog) => void dialog.accept(TOKEN));
    try {
      await page.goto(tc.url);
      await page.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });
      await page.locator('#pod-figures tbody tr').nth(2).waitFor({ timeout: 15_000 });
      const points = await page
        .locator('#chart-throughput')
        .evaluate((c) => Number((c as unknown as { dataset: { points: string } }).dataset.points));
      assert.ok(points >= 2, `${points} points drawn`);
      const max = await page
        .locator('#chart-throughput')
        .evaluate((c) => Number((c as unknown as { dataset: { max: string } }).dataset.max));
      assert.ok(max > 0, 'the jobs so far show as throughput');
      await page.locator('#tasks-per-job').fill('3');
      await page.locator('#settings-form button').click();
      // The table follows the master's samples: every pod's row says it applied 3.
      await eventually(
        'every pod row to show 3 applied',
        async () => {
          const converged = await page.locator('#settings-converged').textContent();
          const cells = await page.locator('#pod-figures td.applied').allTextContents();
          return converged?.startsWith('3 of 3 pods') && cells.join() === '3,3,3';
        },
        20_000,
        200,
      );
      const { body } = await get<SettingsView>('/api/settings');
      assert.equal(body.tasks_per_job, 3);
      assert.match(String(await page.locator('#settings-status').textContent()), /^Saved/);
    } finally {
      await page.close();
    }
  });
});
