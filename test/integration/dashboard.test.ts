import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { io as connectClient, type Socket } from 'socket.io-client';
import type { JobStatusEvent } from '../../src/jobs/types.js';
import type { ClusterSnapshot, NodeLogEvent } from '../../src/web/deps.js';
import { launchChromium, type PageCanvas, type PageImage } from '../support/browser.js';
import { eventually, startTestCluster, type TestCluster } from '../support/cluster.js';
import { lowContrastImage, writeImage } from '../support/images.js';
import { REPO_ROOT } from '../support/paths.js';

// Browser globals as used inside page.evaluate callbacks (the tests compile without the DOM
// library): the element types come from the browser helper, the rest is declared here.
declare const document: {
  getElementById(id: string): unknown;
  querySelector(selector: string): unknown;
  scrollingElement: { scrollWidth: number };
};
declare const window: {
  innerWidth: number;
  histeqSocket: { id?: string; connected: boolean };
};

const EVIL_NAME = '<img src=x onerror=alert(1)>.png';
const OUTPUT = join(REPO_ROOT, 'test-output');

/**
 * How many pixels of a canvas are close to an RGB colour (the chart's bars or CDF line), and
 * how far apart the leftmost and rightmost of them are.
 */
async function canvasPixels(page: Page, id: string, rgb: [number, number, number]) {
  return page.evaluate(
    ({ id, rgb }) => {
      const canvas = document.getElementById(id) as PageCanvas;
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let near = 0;
      let minX = Infinity;
      let maxX = -Infinity;
      for (let i = 0; i < data.length; i += 4) {
        const d =
          Math.abs(data[i] - rgb[0]) +
          Math.abs(data[i + 1] - rgb[1]) +
          Math.abs(data[i + 2] - rgb[2]);
        if (d >= 40) continue;
        near++;
        const x = (i / 4) % canvas.width;
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
      }
      return { near, spread: maxX - minX, width: canvas.width };
    },
    { id, rgb },
  );
}

describe('the dashboard in a real Chromium against a real cluster', { timeout: 150_000 }, () => {
  let tc: TestCluster;
  let browser: Browser;
  let page: Page;
  let noWsPage: Page;
  let polling: Socket;
  const polled: { status: JobStatusEvent[]; logs: NodeLogEvent[]; cluster: number } = {
    status: [],
    logs: [],
    cluster: 0,
  };
  const dialogs: string[] = [];
  let bigPath = '';

  before(async () => {
    await mkdir(OUTPUT, { recursive: true });
    const image = lowContrastImage(3600, 2700, 3, 8, 7);
    const [cluster, launched] = await Promise.all([
      // Histogram tasks held 1.5 s: the master is killed while the failover job still runs
      // (unheld, a 10 MP job can finish between the page's "accepted" and the kill).
      startTestCluster({
        pods: 4,
        env: { FAULT_INJECTION: JSON.stringify({ delayMs: { histogram: 1500 } }) },
      }),
      launchChromium(),
    ]);
    tc = cluster;
    browser = launched;
    bigPath = join(tc.dir, 'dusk.tif');
    await writeImage(image, bigPath, 'tiff');
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(tc.url);
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });
  });

  after(async () => {
    polling?.close();
    await browser?.close();
    await tc?.close();
  });

  it('works without WebSocket: a polling-only client and a page without WebSocket', async () => {
    polling = connectClient(tc.url, { transports: ['polling'], reconnectionDelayMax: 1000 });
    polling.on('job_status', (s: JobStatusEvent) => polled.status.push(s));
    polling.on('node_log', (l: NodeLogEvent) => polled.logs.push(l));
    polling.on('cluster', (_c: ClusterSnapshot) => polled.cluster++);
    // Like the page: a pod that is not (or no longer) master refuses or drops the connection,
    // which socket.io does not retry by itself.
    polling.on('connect_error', () => {
      if (!polling.active) setTimeout(() => polling.connect(), 500);
    });
    polling.on('disconnect', (reason) => {
      if (reason === 'io server disconnect') setTimeout(() => polling.connect(), 500);
    });
    await eventually('the polling client to get the cluster view', () => polled.cluster > 0);
    assert.equal(polling.io.engine.transport.name, 'polling');

    noWsPage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await noWsPage.addInitScript(() => {
      // As behind a proxy that refuses WebSockets: socket.io must stay on long-polling.
      Object.defineProperty(window, 'WebSocket', { value: undefined });
    });
    await noWsPage.goto(tc.url);
    await noWsPage.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });
    await noWsPage.waitForSelector('#pods tbody tr', { timeout: 10_000 });
  });

  it('shows a refused file with the server sentence and a hostile name as plain text', async () => {
    const png = lowContrastImage(64, 48, 1, 8, 3);
    const evilPath = join(tc.dir, 'evil.png');
    await writeImage(png, evilPath, 'png');
    const { readFile } = await import('node:fs/promises');
    await page.setInputFiles('#image', [
      { name: EVIL_NAME, mimeType: 'image/png', buffer: await readFile(evilPath) },
      { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all\n') },
    ]);
    const refused = page.locator('.upload-row[data-state="refused"] .message');
    await refused.waitFor({ timeout: 20_000 });
    assert.equal(await refused.textContent(), 'This file is not a TIFF, PNG or JPEG image.');
    const evilJob = page.locator('.job', { hasText: EVIL_NAME });
    await evilJob.locator('[data-state="done"]').first().waitFor({ timeout: 30_000 });
    assert.equal(await evilJob.locator('.name').textContent(), EVIL_NAME);
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'the name became an element');
    assert.deepEqual(dialogs, []);
  });

  it('runs a job through a master failover with live progress, logs and results', async () => {
    const before = (await (await fetch(`${tc.url}/api/cluster`)).json()) as ClusterSnapshot;
    const master = before.master!;
    const firstSocket = await page.evaluate(() => window.histeqSocket.id);
    await page.setInputFiles('#image', bigPath);
    const row = page.locator('.upload-row', { hasText: 'dusk.tif' });
    await row.locator('progress').waitFor();
    await page.locator('.upload-row[data-state="accepted"]', { hasText: 'dusk.tif' }).waitFor({
      timeout: 30_000,
    });
    const item = page.locator('.job', { hasText: 'dusk.tif' });
    const id = await item.getAttribute('data-job-id');
    assert.match(id ?? '', /^[a-z0-9]+-[0-9a-f]{8}$/);
    const stateAtKill = await item.getAttribute('data-state');
    assert.notEqual(stateAtKill, 'done', 'the kill must land mid-job');
    assert.ok(tc.cluster.killPod(master, 'SIGKILL'));

    // The page reconnects through the front door to the new master and sees the job finish.
    await page.waitForFunction(
      (first) => {
        const s = window.histeqSocket;
        return s.connected && s.id !== first;
      },
      firstSocket,
      { timeout: 40_000, polling: 200 },
    );
    await item.and(page.locator('[data-state="done"]')).waitFor({ timeout: 60_000 });
    await page.locator('.job.selected', { hasText: 'dusk.tif' }).waitFor({ timeout: 5_000 });
    const after = (await (await fetch(`${tc.url}/api/cluster`)).json()) as ClusterSnapshot;
    assert.notEqual(after.master, master);
    const view = (await (await fetch(`${tc.url}/api/jobs/${id}`)).json()) as {
      masters: string[];
      attempts: unknown[];
    };
    assert.ok(view.masters.length >= 2, `masters: ${view.masters.join(',')}`);

    // Per-phase bars full, previews loaded, charts drawn (pixels, not just elements).
    assert.match((await item.locator('.phase-count').first().textContent()) ?? '', /^(\d+)\/\1$/);
    for (const which of ['in', 'out']) {
      await page.waitForFunction(
        (sel) => {
          const img = document.querySelector(sel) as PageImage | null;
          return !!img && img.complete && img.naturalWidth > 0;
        },
        `#preview-${which}`,
        { timeout: 15_000 },
      );
    }
    const size = await page.evaluate(() => {
      const img = document.getElementById('preview-out') as PageImage;
      return [img.naturalWidth, img.naturalHeight];
    });
    assert.deepEqual(size, [1024, 768]);
    await page.waitForFunction(
      () => {
        const c = document.getElementById('hist-out') as PageCanvas;
        const d = c.getContext('2d').getImageData(0, 0, 1, 1).data;
        return d[3] === 255;
      },
      undefined,
      { timeout: 15_000 },
    );
    for (const canvas of ['hist-in', 'hist-out']) {
      const bars = await canvasPixels(page, canvas, [0x5a, 0xa2, 0xff]);
      const cdf = await canvasPixels(page, canvas, [0xff, 0xa6, 0x30]);
      assert.ok(bars.near > 200, `${canvas}: ${bars.near} bar pixels`);
      assert.ok(cdf.near > 100, `${canvas}: ${cdf.near} CDF pixels`);
    }
    // The input is low-contrast: its bars sit in a narrow band, the equalized output's span
    // nearly the whole range.
    const inBars = await canvasPixels(page, 'hist-in', [0x5a, 0xa2, 0xff]);
    const outBars = await canvasPixels(page, 'hist-out', [0x5a, 0xa2, 0xff]);
    assert.ok(inBars.spread < inBars.width * 0.5, `input spread ${inBars.spread}`);
    assert.ok(outBars.spread > outBars.width * 0.8, `output spread ${outBars.spread}`);
    const href = await page.locator('#download').getAttribute('href');
    assert.match(href ?? '', new RegExp(`/download/${id}\\.tif$`));

    // The timeline has a lane per pod that ran tasks.
    const lanes = await page.locator('#timeline .lane').count();
    assert.ok(lanes >= 2, `${lanes} lanes`);
    assert.ok((await page.locator('#timeline .bar').count()) >= 8);

    // Live logs: terminals of at least three pods with lines in them.
    await eventually(
      'log lines from three pods',
      async () =>
        (await page
          .locator('.terminal')
          .evaluateAll(
            (boxes) => boxes.filter((b) => b.querySelectorAll('.line').length > 0).length,
          )) >= 3,
      20_000,
    );
    const rendered = await page.locator('.terminal .line .l-msg').first().textContent();
    assert.ok(rendered && !rendered.startsWith('{'), 'JSON lines are rendered readably');

    // The filter hides non-matching lines.
    await page.fill('#log-filter', 'elected master');
    const visible = await page.locator('.terminal .line:visible').allTextContents();
    assert.ok(visible.every((t) => t.includes('elected master')));
    await page.fill('#log-filter', '');

    // The page without WebSocket and the polling client saw the job end too.
    await noWsPage
      .locator(`.job[data-job-id="${id}"][data-state="done"]`)
      .waitFor({ timeout: 20_000 });
    await eventually('the polling client to see the job done', () =>
      polled.status.some((s) => s.id === id && s.state === 'done'),
    );
    assert.ok(polled.logs.length > 0, 'node_log over long-polling');

    await page.screenshot({ path: join(OUTPUT, 'dashboard.png'), fullPage: true });
  });

  it('fits a phone screen without horizontal scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(
      () => document.scrollingElement!.scrollWidth - window.innerWidth,
    );
    assert.ok(overflow <= 1, `${overflow} px too wide`);
    await page.screenshot({ path: join(OUTPUT, 'dashboard-phone.png'), fullPage: false });
  });

  it('exposes the Prometheus metrics the dashboard issue lists', async () => {
    const text = await (await fetch(`${tc.url}/metrics`)).text();
    for (const name of [
      'histeq_jobs{',
      'histeq_tasks_total',
      'histeq_tasks_running',
      'histeq_task_duration_seconds_bucket',
      'histeq_leader',
      'histeq_zookeeper_session_state{',
      'histeq_pool_utilization',
    ]) {
      assert.ok(text.includes(name), `missing ${name}`);
    }
  });
});
