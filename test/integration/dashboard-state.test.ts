import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { JobStatusEvent, JobView } from '../../src/jobs/types.js';
import {
  jobId,
  jobView,
  harnessAndBrowser,
  openDashboard,
  waitForPreviews,
  writeArtifacts,
} from '../support/browser.js';
import type { WebHarness } from '../support/web-harness.js';

/** Browser globals used inside page.evaluate callbacks (the tests compile without the DOM). */
interface PageText {
  textContent: string | null;
}
declare const document: {
  getElementById(id: string): unknown;
  querySelector(selector: string): unknown;
};

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

function status(view: JobView, fields: Partial<JobStatusEvent> = {}): JobStatusEvent {
  const { id, name, state, phase, done, total, msg } = view;
  return { id, name, state, phase, done, total, msg, ...fields };
}

async function waitSelected(page: Page, id: string) {
  await page.locator(`.job.selected[data-job-id="${id}"]`).waitFor({ timeout: 10_000 });
  await page.locator('#detail-title', { hasText: `${id}.png` }).waitFor({ timeout: 10_000 });
}

describe('dashboard state in a real Chromium against the web server', { timeout: 90_000 }, () => {
  const ctx = harnessAndBrowser();
  let web: WebHarness;
  let browser: Browser;
  before(() => {
    [web, browser] = [ctx.web(), ctx.browser()];
  });

  it('selects the running job, else the newest, after a reload and in a second tab', async () => {
    // Replayed oldest first, as the server does: the first job_status must not decide.
    const jobs = web.jobs.jobs;
    const [s1, s2, s3] = [30, 20, 10].map((m, i) => jobId(minutesAgo(m), i + 1));
    jobs.set(s1, jobView(s1, { state: 'done', done: 4 }, minutesAgo(30)));
    jobs.set(s2, jobView(s2, { state: 'equalizing', done: 1 }, minutesAgo(20)));
    jobs.set(s3, jobView(s3, { state: 'done', done: 4 }, minutesAgo(10)));
    const page = await openDashboard(browser, web.url);
    await waitSelected(page, s2);
    await page.reload();
    await waitSelected(page, s2);
    const second = await openDashboard(browser, web.url);
    await waitSelected(second, s2);
    // Nothing runs any more: the newest.
    jobs.set(s2, { ...jobs.get(s2)!, state: 'done', done: 4 });
    await second.reload();
    await waitSelected(second, s3);
    await Promise.all([page.close(), second.close()]);
    for (const id of [s1, s2, s3]) jobs.delete(id);
  });

  it('gives each job a link of its own that survives a reload', async () => {
    const jobs = web.jobs.jobs;
    const [d1, d2] = [jobId(minutesAgo(30), 11), jobId(minutesAgo(10), 12)];
    jobs.set(d1, jobView(d1, { state: 'done', done: 4 }, minutesAgo(30)));
    jobs.set(d2, jobView(d2, { state: 'done', done: 4 }, minutesAgo(10)));
    const page = await openDashboard(browser, `${web.url}/#/jobs/${d1}`);
    await waitSelected(page, d1);
    assert.equal(await page.locator('#detail-link').getAttribute('href'), `#/jobs/${d1}`);
    await page.reload();
    await page.waitForSelector('#connection[data-state="connected"]');
    await waitSelected(page, d1);
    // Choosing another job in the list moves the link; Back returns to the first.
    await page.locator(`.job[data-job-id="${d2}"] .job-select`).click();
    await waitSelected(page, d2);
    assert.equal(new URL(page.url()).hash, `#/jobs/${d2}`);
    await page.reload();
    await waitSelected(page, d2);
    await page.goBack();
    await waitSelected(page, d1);
    await page.close();
    jobs.delete(d1);
    jobs.delete(d2);
  });

  it('shows the same state in the list and the detail, even when events outrun the API', async () => {
    const l1 = jobId(minutesAgo(1), 21);
    const view = jobView(l1, { state: 'mapping', done: 1 }, minutesAgo(1));
    web.jobs.jobs.set(l1, view);
    const page = await openDashboard(browser, `${web.url}/#/jobs/${l1}`);
    await waitSelected(page, l1);
    // The API still answers "mapping" (a fetch crossing the events); the events move on.
    const steps: Partial<JobStatusEvent>[] = [
      { state: 'mapping', phase: 'mapping', done: 3 },
      { state: 'reducing', phase: 'reducing', done: 0 },
      { state: 'equalizing', phase: 'equalizing', done: 2 },
      { state: 'equalizing', phase: 'equalizing', done: 3 },
    ];
    for (const step of steps) {
      web.events.emit('job_status', status(view, step));
      const label = { mapping: 'Histograms', reducing: 'Building', equalizing: 'Equalizing' }[
        step.state as 'mapping' | 'reducing' | 'equalizing'
      ];
      // Read in one go the moment the list shows the new state: the detail must already agree.
      const [list, detail] = await page
        .waitForFunction(
          ({ id, label }) => {
            const item = document.querySelector(`.job[data-job-id="${id}"] .state`) as PageText;
            const state = document.getElementById('detail-state') as PageText | null;
            return item?.textContent?.includes(label) && [item.textContent, state?.textContent];
          },
          { id: l1, label },
          { timeout: 5_000, polling: 'raf' },
        )
        .then((handle) => handle.jsonValue() as Promise<[string, string]>);
      assert.ok(detail.includes(label), `list "${list}", detail "${detail}"`);
      if (step.state !== 'reducing') {
        await page.locator('#detail-state', { hasText: `${step.done}/4` }).waitFor();
        const counts = await page
          .locator(`.job[data-job-id="${l1}"] .phase-count`)
          .allTextContents();
        assert.ok(counts.includes(`${step.done}/4`), counts.join(' '));
      }
    }
    // A poll of the (older) API view does not move either back.
    await page.waitForTimeout(2_500);
    assert.match((await page.locator('#detail-state').textContent()) ?? '', /Equalizing \(3\/4/);
    assert.equal(
      await page.locator(`.job[data-job-id="${l1}"] .state`).textContent(),
      'Equalizing',
    );
    await page.close();
    web.jobs.jobs.delete(l1);
  });

  it('shows previews and histograms while the job is still equalizing', async () => {
    const p1 = jobId(minutesAgo(1), 31);
    const view = jobView(p1, { state: 'equalizing', done: 1 }, minutesAgo(1));
    web.jobs.jobs.set(p1, view);
    const page = await openDashboard(browser, `${web.url}/#/jobs/${p1}`);
    await waitSelected(page, p1);
    assert.equal(await page.locator('#results').isHidden(), true, 'nothing to show yet');
    // The master writes them once the LUT exists; the page finds them on its next poll.
    const flat = Array.from({ length: 256 }, (_, i) => (i >= 90 && i < 140 ? 50 : 0));
    await writeArtifacts(web.sharedDir, p1, { input: flat, output: flat });
    await waitForPreviews(page);
    await page.locator('#hist-in[data-scale]').waitFor({ timeout: 5_000 });
    assert.equal(
      await page.locator(`.job[data-job-id="${p1}"]`).getAttribute('data-state'),
      'equalizing',
    );
    assert.equal(await page.locator('#download').isHidden(), true, 'no result before done');
    await page.close();
    web.jobs.jobs.delete(p1);
  });
});
