import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobAttemptsEvent, JobStatusEvent } from '../../src/jobs/types.js';
import { attempt, harnessAndBrowser, jobId, jobView } from '../support/browser.js';

const secondsAgo = (s: number) => new Date(Date.now() - s * 1000);

describe(
  'the dashboard’s timeline of a running job in a real Chromium',
  { timeout: 60_000 },
  () => {
    const setup = harnessAndBrowser();

    it('grows from pushed job_attempts events, never polling the job', async () => {
      const web = setup.web();
      const id = jobId(secondsAgo(10), 7);
      const first = attempt('histogram', 0, 'pod-1', secondsAgo(5));
      web.jobs.jobs.set(id, jobView(id, { state: 'mapping', total: 3, attempts: [first] }));
      const page = await setup.browser().newPage({ viewport: { width: 1280, height: 900 } });
      const asked: string[] = [];
      page.on('request', (r) => {
        if (new URL(r.url()).pathname === `/api/jobs/${id}`) asked.push(r.url());
      });
      await page.goto(`${web.url}/#/jobs/${id}`);
      await page.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });
      await page.locator('#timeline .bar').first().waitFor({ timeout: 10_000 });
      await page.waitForTimeout(500);
      const askedOnOpen = asked.length;
      assert.equal(askedOnOpen, 1, 'the job is read once when chosen');

      const status = (done: number): JobStatusEvent => ({
        id,
        name: 'pushed.png',
        state: 'mapping',
        phase: 'mapping',
        done,
        total: 3,
        msg: `${done}/3 histogram tasks done`,
      });
      const push = (attempts: JobAttemptsEvent['attempts']) =>
        web.events.emit('job_attempts', { id, attempts });
      // Claims, a result, more claims: each arrives as an event, between progress events.
      const second = attempt('histogram', 1, 'pod-2', secondsAgo(3));
      push([first, second]);
      await page.locator('#timeline .bar').nth(1).waitFor({ timeout: 5_000 });
      const firstDone = attempt('histogram', 0, 'pod-1', secondsAgo(5), secondsAgo(1));
      web.events.emit('job_status', status(1));
      push([firstDone, second]);
      await page.locator('#timeline .bar.histogram.done').waitFor({ timeout: 5_000 });
      // Longer than any poll period the page ever used, with events still flowing.
      await page.waitForTimeout(2_500);
      push([firstDone, second, attempt('histogram', 2, 'pod-1', secondsAgo(0.5))]);
      web.events.emit('job_status', status(2));
      await page.locator('#timeline .bar').nth(2).waitFor({ timeout: 5_000 });
      assert.equal(await page.locator('#timeline .bar').count(), 3);
      await page.waitForTimeout(2_500);
      assert.equal(asked.length, askedOnOpen, `the page asked for the job: ${asked.join(', ')}`);

      // A new phase has new durations: that is read, once.
      web.events.emit('job_status', { ...status(0), state: 'reducing', phase: 'reducing' });
      await page
        .locator('#detail-state', { hasText: /^Building the lookup table/ })
        .waitFor({ timeout: 5_000 });
      await page.waitForTimeout(1_000);
      assert.equal(asked.length, askedOnOpen + 1, 'one read for the new phase');
      await page.close();
      web.jobs.jobs.delete(id);
    });
  },
);
