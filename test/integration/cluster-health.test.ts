import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
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

describe('cluster health over time, on a 3-pod cluster', () => {
  let tc: TestCluster;
  let dir: string;
  let browser: Browser;
  const get = async <T>(path: string, headers: Record<string, string> = auth) => {
    const res = await fetch(`${tc.url}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as T };
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

  it('the page draws the charts and lists every pod with its figures', async () => {
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
      const first = await page
        .locator('#pod-figures tbody tr')
        .first()
        .locator('td')
        .allTextContents();
      assert.equal(first.length, 8, first.join(' | '));
      assert.match(first[6], /^connected, [\d.]+ ms$/, 'ZooKeeper state and round trip');
      assert.match(first[7], /ago$/, 'a last heartbeat');
    } finally {
      await page.close();
    }
  });
});
