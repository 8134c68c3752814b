import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  jobId,
  jobView,
  harnessAndBrowser,
  openDashboard,
  writeArtifacts,
} from '../support/browser.js';
import type { WebHarness } from '../support/web-harness.js';

interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
declare const document: { getElementById(id: string): unknown };

/** Pixels of the chart's bar colour on a canvas. */
function barPixels(page: Page, id: string): Promise<number> {
  return page.evaluate((id) => {
    const canvas = document.getElementById(id) as PageCanvas;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const d =
        Math.abs(data[i] - 0x5a) + Math.abs(data[i + 1] - 0xa2) + Math.abs(data[i + 2] - 0xff);
      if (d < 40) n++;
    }
    return n;
  }, id);
}

/** Requests the page makes for a job's results (previews, stats, the download check). */
function watchResultRequests(page: Page, id: string): string[] {
  const seen: string[] = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.pathname.startsWith(`/api/jobs/${id}/`) || url.pathname.startsWith(`/download/${id}`)) {
      seen.push(`${req.method()} ${url.pathname}`);
    }
  });
  return seen;
}

describe('dashboard results in a real Chromium against the web server', { timeout: 90_000 }, () => {
  const ctx = harnessAndBrowser();
  let web: WebHarness;
  let browser: Browser;
  before(() => {
    [web, browser] = [ctx.web(), ctx.browser()];
  });

  it('says in one sentence that results cannot be loaded and asks no more after a 4xx', async () => {
    // Done, but its files are gone: every result answers 404.
    const id = jobId(new Date(), 1);
    web.jobs.jobs.set(id, jobView(id, { state: 'done', done: 4, url: `/download/${id}.png` }));
    const page = await openDashboard(browser, `${web.url}/#/jobs/${id}`);
    const seen = watchResultRequests(page, id);
    await page.reload();
    const sentence = page.locator('#results-error');
    await sentence.waitFor({ timeout: 10_000 });
    // Longer than the first two pauses of the backoff: a retry would have been sent by now.
    await page.waitForTimeout(2_500);
    const text = (await sentence.textContent()) ?? '';
    assert.match(
      text,
      /^The .*could not be loaded \(the server answered 404\), so the page has stopped asking; reload to try again\.$/,
    );
    for (const part of ['previews', 'histograms', 'download']) assert.ok(text.includes(part), text);
    assert.deepEqual(seen.sort(), [
      `GET /api/jobs/${id}/preview/in`,
      `GET /api/jobs/${id}/preview/out`,
      `GET /api/jobs/${id}/stats`,
      `HEAD /download/${id}.png`,
    ]);
    // Nothing broken is left on screen: no empty images or charts.
    for (const part of ['#download', '#compare', '#charts']) {
      assert.equal(await page.locator(part).isHidden(), true, part);
    }
    await page.close();
    web.jobs.jobs.delete(id);
  });

  it('retries a failing server a bounded number of times with backoff, then says so', async () => {
    const id = jobId(new Date(), 2);
    web.jobs.jobs.set(id, jobView(id, { state: 'equalizing', done: 1 }));
    await writeArtifacts(web.sharedDir, id, { input: [1, 2, 3], output: [3, 2, 1] });
    const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // A proxy in front of the master answering 503 for the stats only.
    const stamps: number[] = [];
    await tab.route(`**/api/jobs/${id}/stats`, (route) => {
      stamps.push(Date.now());
      void route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: '{"error":"busy"}',
      });
    });
    await tab.goto(`${web.url}/#/jobs/${id}`);
    await tab.locator('#results-error[data-failed="histograms"]').waitFor({ timeout: 15_000 });
    await tab.waitForTimeout(1_000);
    assert.equal(stamps.length, 4, 'one request and three retries');
    const gaps = stamps.slice(1).map((t, i) => t - stamps[i]);
    assert.ok(gaps[0] >= 400 && gaps[1] > gaps[0] && gaps[2] > gaps[1], `gaps ${gaps.join(', ')}`);
    assert.match(
      (await tab.locator('#results-error').textContent()) ?? '',
      /^The histograms could not be loaded \(the server answered 503\); the page asks again when the job moves on or the page reconnects\.$/,
    );
    // The previews were there: they show.
    await tab.locator('#preview-out.loaded').waitFor({ timeout: 5_000 });

    // A master failover can outlast the backoff: once the job moves on (the new master
    // announces its next state), the page asks once more and shows what it gets.
    await tab.unroute(`**/api/jobs/${id}/stats`);
    let asked = 0;
    tab.on('request', (req) => {
      if (new URL(req.url()).pathname === `/api/jobs/${id}/stats`) asked++;
    });
    const next = {
      ...web.jobs.jobs.get(id)!,
      state: 'stitching' as const,
      phase: 'stitching' as const,
    };
    web.jobs.jobs.set(id, next);
    web.events.emit('job_status', { ...web.jobs.latest().find((s) => s.id === id)! });
    await tab.locator('#charts:not([hidden])').waitFor({ timeout: 10_000 });
    assert.equal(await tab.locator('#results-error').isHidden(), true);
    assert.ok((await barPixels(tab, 'hist-in')) > 0, 'the histogram is drawn');
    // The same state again asks nothing more.
    web.events.emit('job_status', { ...web.jobs.latest().find((s) => s.id === id)! });
    await tab.waitForTimeout(1_000);
    assert.equal(asked, 1);
    await tab.close();
    web.jobs.jobs.delete(id);
  });

  it('redraws the histograms on a log scale when asked', async () => {
    const id = jobId(new Date(), 3);
    // One dominant bin: on a linear scale every other bar is a pixel high.
    const input = Array.from({ length: 256 }, (_, i) =>
      i === 40 ? 1_000_000 : i > 60 && i < 200 ? 30 + (i % 7) : 0,
    );
    web.jobs.jobs.set(id, jobView(id, { state: 'done', done: 4 }));
    await writeArtifacts(web.sharedDir, id, { input, output: input });
    const page = await openDashboard(browser, `${web.url}/#/jobs/${id}`);
    await page.locator('#hist-in[data-scale="linear"]').waitFor({ timeout: 10_000 });
    const linear = await barPixels(page, 'hist-in');
    await page.locator('#hist-log').check();
    await page.locator('#hist-in[data-scale="log"]').waitFor({ timeout: 2_000 });
    const log = await barPixels(page, 'hist-in');
    assert.ok(log > linear * 5, `bar pixels: linear ${linear}, log ${log}`);
    // The choice is kept: a reload draws on the log scale again.
    await page.reload();
    await page.locator('#hist-in[data-scale="log"]').waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#hist-log').isChecked(), true);
    await page.locator('#hist-log').uncheck();
    await page.locator('#hist-in[data-scale="linear"]').waitFor({ timeout: 2_000 });
    await page.close();
    web.jobs.jobs.delete(id);
  });
});
