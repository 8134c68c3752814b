import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  attempt,
  jobId,
  jobView,
  launchChromium,
  openDashboard,
  TEST_OUTPUT,
} from '../support/browser.js';
import { clusterSnapshot, startWebHarness, type WebHarness } from '../support/web-harness.js';

interface PageScroller {
  scrollTop: number;
  scrollHeight: number;
  clientHeight: number;
}

const secondsAgo = (s: number) => new Date(Date.now() - s * 1000);

describe('the live parts of the dashboard in a real Chromium', { timeout: 90_000 }, () => {
  let web: WebHarness;
  let browser: Browser;
  /** pod-2's /readyz: a pod that serves but has lost its ZooKeeper session. */
  let pod2: Server;

  before(async () => {
    pod2 = createServer((_req, res) => {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ready: false, pod: 'pod-2', reason: 'ZooKeeper is disconnected' }));
    });
    await new Promise<void>((resolve) => pod2.listen(0, '127.0.0.1', resolve));
    [web, browser] = await Promise.all([startWebHarness(), launchChromium()]);
    const pod2Url = `http://127.0.0.1:${(pod2.address() as AddressInfo).port}`;
    web.deps.cluster = () => {
      const snap = clusterSnapshot();
      snap.pods[0].url = web.url;
      snap.pods[1].url = pod2Url;
      // pod-3 is registered in ZooKeeper but its HTTP server does not answer.
      snap.pods.push({ ...snap.pods[1], pod: 'pod-3', url: 'http://127.0.0.1:9', pid: 33 });
      return snap;
    };
  });

  after(async () => {
    await browser?.close();
    await web?.close();
    await new Promise((resolve) => pod2?.close(resolve));
  });

  it('draws a pod’s parallel attempts on rows of their own and grows the axis', async (t) => {
    const id = jobId(secondsAgo(20), 1);
    t.after(() => web.jobs.jobs.delete(id));
    // pod-2 runs two attempts at once (two pool threads), pod-1 one after another.
    web.jobs.jobs.set(
      id,
      jobView(id, {
        state: 'mapping',
        done: 2,
        attempts: [
          attempt('histogram', 0, 'pod-2', secondsAgo(10), secondsAgo(6)),
          attempt('histogram', 1, 'pod-2', secondsAgo(10), secondsAgo(5)),
          attempt('histogram', 2, 'pod-2', secondsAgo(4)),
          attempt('histogram', 3, 'pod-1', secondsAgo(9), secondsAgo(7)),
          attempt('histogram', 4, 'pod-1', secondsAgo(7)),
        ],
      }),
    );
    const page = await openDashboard(browser, `${web.url}/#/jobs/${id}`);
    await page.locator('#timeline .bar').nth(4).waitFor({ timeout: 10_000 });
    // Queried and measured in one evaluation: the page redraws a running job's timeline every
    // second, and a lane found in one round trip and measured in the next may be detached by
    // then (a detached element measures 0×0).
    const boxes = await page.locator('#timeline').evaluate((box) =>
      [...box.querySelectorAll('.lane')].map((lane) => ({
        pod: (lane as unknown as { dataset: { pod: string } }).dataset.pod,
        bars: [...lane.querySelectorAll('.bar')].map((b) => {
          const r = b.getBoundingClientRect();
          return { text: b.textContent, x: r.x, y: r.y, w: r.width, h: r.height };
        }),
      })),
    );
    for (const { pod, bars } of boxes) {
      for (let i = 0; i < bars.length; i++) {
        for (let j = i + 1; j < bars.length; j++) {
          const [a, b] = [bars[i], bars[j]];
          const apart =
            a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
          assert.ok(apart, `${pod}: ${a.text} and ${b.text} overlap`);
        }
        assert.ok(
          bars[i].w >= 3 && bars[i].h >= 10,
          `${pod}: ${bars[i].text} is visible (${bars[i].w}×${bars[i].h} at ${bars[i].x},${bars[i].y})`,
        );
      }
    }
    // The axis ends at now while the job runs, and keeps growing.
    const range = () => page.locator('#timeline .axis').getAttribute('data-range-ms').then(Number);
    const first = await range();
    assert.ok(first >= 9_000, `axis spans ${first} ms`);
    // It is redrawn every second: within a few seconds it has grown by at least one.
    let later = first;
    for (let i = 0; i < 50 && later < first + 900; i++) {
      await page.waitForTimeout(100);
      later = await range();
    }
    assert.ok(later >= first + 900, `axis ${first} → ${later} ms`);
    assert.match((await page.locator('#timeline .axis-end').textContent()) ?? '', /\(now\)$/);
    await page.screenshot({ path: join(TEST_OUTPUT, 'dashboard-timeline.png'), fullPage: true });
    await page.close();
  });

  it('shows what is known of each pod’s health and its tasks across all jobs', async () => {
    const [a, b] = [jobId(secondsAgo(60), 2), jobId(secondsAgo(30), 3)];
    web.jobs.jobs.set(
      a,
      jobView(a, {
        state: 'equalizing',
        attempts: [attempt('equalize', 1, 'pod-2', secondsAgo(2))],
      }),
    );
    web.jobs.jobs.set(
      b,
      jobView(b, { state: 'mapping', attempts: [attempt('histogram', 3, 'pod-2', secondsAgo(1))] }),
    );
    // The page shows job b (the newest running); pod-2's tasks of job a are listed too.
    const page = await openDashboard(browser, `${web.url}/#/jobs/${b}`);
    const row = (pod: string) => page.locator(`#pods tbody tr[data-pod="${pod}"]`);
    await row('pod-2').locator('.health[data-health="not-ready"]').waitFor({ timeout: 10_000 });
    assert.equal(
      await row('pod-2').locator('.tasks').textContent(),
      `equalize 1 (${a}.png), histogram 3 (${b}.png)`,
    );
    assert.match(
      (await row('pod-1').locator('.health').textContent()) ?? '',
      /^ready · serving · last report \d+\.\d s ago$/,
    );
    assert.match(
      (await row('pod-2').locator('.health').textContent()) ?? '',
      /^not ready · serving · last report/,
    );
    assert.equal(
      await row('pod-2').locator('.health').getAttribute('title'),
      'ZooKeeper is disconnected',
    );
    assert.equal(
      await row('pod-3').locator('.health').textContent(),
      'not answering · never reported',
    );
    // A log line is a report too.
    web.events.emit('node_log', { pod: 'pod-3', log: 'still here' });
    await row('pod-3')
      .locator('.health', { hasText: 'not answering · last report' })
      .waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(TEST_OUTPUT, 'dashboard-cluster.png'), fullPage: true });
    await page.close();
    web.jobs.jobs.delete(a);
    web.jobs.jobs.delete(b);
  });

  it('keeps a terminal following a burst, and pauses it only when the reader scrolls', async () => {
    const page = await openDashboard(browser, web.url);
    const box = page.locator('.terminal[data-pod="pod-2"]');
    const body = box.locator('.term-body');
    const burst = (from: number, n: number) => {
      for (let i = from; i < from + n; i++) {
        const time = new Date().toISOString();
        web.events.emit('node_log', {
          pod: 'pod-2',
          log: JSON.stringify({ time, level: 'info', msg: `line ${i}` }),
        });
      }
    };
    // More lines than a terminal keeps, so old ones are dropped while it follows.
    burst(0, 900);
    await box.locator('.line', { hasText: 'line 899' }).waitFor({ timeout: 10_000 });
    await page.waitForTimeout(300);
    assert.equal(await box.locator('.resume').isHidden(), true, 'paused by a burst');
    const atEnd = () =>
      body.evaluate((node) => {
        const b = node as unknown as PageScroller;
        return b.scrollHeight - b.scrollTop - b.clientHeight < 8;
      });
    assert.equal(await atEnd(), true);
    // The reader's wheel pauses it; new lines no longer move the view.
    await body.hover();
    await page.mouse.wheel(0, -400);
    await box.locator('.resume').waitFor({ timeout: 5_000 });
    const top = await body.evaluate((node) => (node as unknown as PageScroller).scrollTop);
    burst(900, 50);
    await box.locator('.line', { hasText: 'line 949' }).waitFor({ timeout: 10_000 });
    assert.equal(await box.getAttribute('data-paused'), 'true');
    assert.ok(!(await atEnd()), 'a paused terminal stays where the reader is');
    assert.ok((await body.evaluate((node) => (node as unknown as PageScroller).scrollTop)) <= top);
    // The button resumes following.
    await box.locator('.resume').click();
    assert.equal(await atEnd(), true);
    await page.close();
  });
});
