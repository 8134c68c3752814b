import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { seededRandom } from '../../src/common/random.js';
import type { JobState } from '../../src/jobs/types.js';
import { attempt, harnessAndBrowser, jobId, jobView, openDashboard } from '../support/browser.js';
import type { WebHarness } from '../support/web-harness.js';

const secondsAgo = (s: number) => new Date(Date.now() - s * 1000);

async function listedIds(page: Page): Promise<string[]> {
  return page
    .locator('#jobs .job')
    .evaluateAll((items) =>
      items.map((li) => (li as unknown as { dataset: { jobId: string } }).dataset.jobId),
    );
}

async function tabCount(page: Page, state: string): Promise<number> {
  return Number(await page.locator(`.job-tab[data-state="${state}"] .count`).textContent());
}

describe('dashboard as an operations console', { timeout: 120_000 }, () => {
  const ctx = harnessAndBrowser();
  let web: WebHarness;
  let browser: Browser;
  before(() => {
    [web, browser] = [ctx.web(), ctx.browser()];
  });

  it('finds jobs among 1,000 by state tab, search and pages, newest first', async () => {
    const random = seededRandom(1000);
    const ends: JobState[] = ['done', 'failed', 'cancelled'];
    const made: { id: string; name: string; state: JobState; at: number }[] = [];
    for (let i = 0; i < 1000; i++) {
      const at = 1000 + i * 7;
      const id = jobId(secondsAgo(at), 5000 + i);
      const state = i < 3 ? 'mapping' : ends[Math.floor(random() * ends.length)]!;
      const name = `${['scan', 'photo', 'map'][i % 3]}-${i}.png`;
      web.jobs.jobs.set(id, { ...jobView(id, { state }, secondsAgo(at)), name });
      made.push({ id, name, state, at });
    }
    try {
      const started = Date.now();
      const page = await openDashboard(browser, web.url);
      await page.locator('#jobs .job').nth(49).waitFor({ timeout: 10_000 });
      console.log(`first page of 1,000 jobs shown in ${Date.now() - started} ms`);
      const newest = [...made].sort((a, b) => a.at - b.at);
      assert.deepEqual(
        await listedIds(page),
        newest.slice(0, 50).map((j) => j.id),
      );
      const count = (s: JobState) => made.filter((j) => j.state === s).length;
      assert.equal(await tabCount(page, ''), 1000);
      assert.equal(await tabCount(page, 'active'), 3);
      for (const s of ends) assert.equal(await tabCount(page, s), count(s));

      await page.locator('.job-tab[data-state="failed"]').click();
      const failed = newest.filter((j) => j.state === 'failed');
      await page.locator('#jobs-range', { hasText: `of ${failed.length}` }).waitFor();
      assert.deepEqual(
        await listedIds(page),
        failed.slice(0, 50).map((j) => j.id),
      );
      await page.locator('#jobs-older').click();
      await page.locator('#jobs-range', { hasText: `51–` }).waitFor();
      assert.deepEqual(
        await listedIds(page),
        failed.slice(50, 100).map((j) => j.id),
      );
      await page.locator('#jobs-newer').click();
      await page.locator('#jobs-range', { hasText: /^1–/ }).waitFor();

      // The search matches names and ids, within the chosen tab; the counts follow it.
      await page.locator('#job-search').fill('photo-1');
      const hits = failed.filter((j) => j.name.includes('photo-1'));
      await page.locator('#jobs-range', { hasText: `of ${hits.length}` }).waitFor();
      assert.deepEqual(
        await listedIds(page),
        hits.slice(0, 50).map((j) => j.id),
      );
      const one = made[500]!;
      await page.locator('.job-tab[data-state=""]').click();
      await page.locator('#job-search').fill(one.id);
      await page.locator('#jobs-range', { hasText: 'of 1' }).waitFor();
      assert.deepEqual(await listedIds(page), [one.id]);
      assert.equal(await tabCount(page, ''), 1);

      // A job far down the list has its own link all the same.
      const deep = await openDashboard(browser, `${web.url}/#/jobs/${made[900]!.id}`);
      await deep.locator('#detail-title', { hasText: made[900]!.name }).waitFor();
      await Promise.all([page.close(), deep.close()]);
    } finally {
      for (const j of made) web.jobs.jobs.delete(j.id);
    }
  });

  it('cancels, retries and deletes from the page, asking first for cancel and delete', async () => {
    const id = jobId(secondsAgo(5), 77);
    web.jobs.jobs.set(id, jobView(id, { state: 'mapping', done: 1 }, secondsAgo(5)));
    const page = await openDashboard(browser, `${web.url}/#/jobs/${id}`);
    await page.locator('#action-cancel').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#action-retry').isVisible(), false, 'running: no retry');

    // Going back from the question changes nothing.
    await page.locator('#action-cancel').click();
    await page.locator('#confirm-dialog[open]').waitFor();
    assert.match((await page.locator('#confirm-text').textContent()) ?? '', /no result/);
    await page.locator('#confirm-dialog button[value="keep"]').click();
    await page.waitForTimeout(300);
    assert.equal(web.jobs.jobs.get(id)!.state, 'mapping');

    await page.locator('#action-cancel').click();
    await page.locator('#confirm-ok').click();
    await page.locator('#detail-state', { hasText: 'Cancelled' }).waitFor();
    assert.equal(web.jobs.jobs.get(id)!.state, 'cancelled');
    await page.locator(`.job[data-job-id="${id}"] .state`, { hasText: 'Cancelled' }).waitFor();

    // Re-run with another colour mode: a new job, chosen at once.
    await page.locator('#rerun summary').click();
    await page.locator('#rerun-form select[name="mode"]').selectOption('per-channel');
    await page.locator('#rerun-form button[type="submit"]').click();
    await page.waitForFunction((old) => !location.hash.endsWith(old), id);
    const again = [...web.jobs.jobs.values()].find((j) => j.retryOf === id);
    assert.ok(again, 'the server got the re-run');
    assert.equal(again.options.mode, 'per-channel');
    await page.locator(`.job.selected[data-job-id="${again.id}"]`).waitFor();

    // Deleting the new job (queued: it is cancelled first, the question says so).
    await page.locator('#action-delete').click();
    assert.match((await page.locator('#confirm-text').textContent()) ?? '', /cancelled first/);
    await page.locator('#confirm-ok').click();
    await page.locator(`.job[data-job-id="${again.id}"]`).waitFor({ state: 'detached' });
    assert.equal(web.jobs.jobs.has(again.id), false);
    assert.equal((await fetch(`${web.url}/api/jobs/${again.id}`)).status, 404);

    // Its log lines are one click away, and the lines shown can be downloaded.
    const lines = [
      {
        pod: 'pod-2',
        log: JSON.stringify({
          level: 'info',
          time: '2026-12-01T10:00:00.000Z',
          job: id,
          task: 'histogram/0',
          msg: 'task started',
        }),
      },
      {
        pod: 'pod-3',
        log: JSON.stringify({
          level: 'info',
          time: '2026-12-01T10:00:01.000Z',
          job: 'other',
          msg: 'task started',
        }),
      },
      {
        pod: 'pod-3',
        log: JSON.stringify({
          level: 'info',
          time: '2026-12-01T10:00:02.000Z',
          job: id,
          msg: 'job cancelled',
        }),
      },
    ];
    for (const line of lines) web.events.emit('node_log', line);
    await page.locator('.line', { hasText: 'job cancelled' }).first().waitFor();
    await page.locator('#action-logs').click();
    assert.equal(await page.locator('#log-filter').inputValue(), id);
    await page.waitForFunction(
      () =>
        [
          ...(
            document as unknown as { querySelectorAll(s: string): { hidden: boolean }[] }
          ).querySelectorAll('.line'),
        ].filter((l) => !l.hidden).length === 2,
    );
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#log-download').click(),
    ]);
    const { readFile } = await import('node:fs/promises');
    const text = await readFile((await download.path())!, 'utf8');
    const got = text.trim().split('\n');
    assert.equal(got.length, 2, text);
    assert.ok(
      got.every((l) => l.includes(id)),
      text,
    );
    assert.ok(
      got.some((l) => l.startsWith('pod-2') && l.includes('task started')),
      text,
    );

    // The server's refusal is shown as its sentence.
    await page.goto(`${web.url}/#/jobs/${id}`);
    await page.locator('#action-retry').waitFor({ state: 'visible' });
    web.jobs.jobs.get(id)!.state = 'mapping';
    await page.locator('#action-retry').click();
    await page.locator('#action-error', { hasText: 'still running' }).waitFor();
    await page.close();
    web.jobs.jobs.delete(id);
  });

  it('a job deleted on one page vanishes from the list and detail of the others', async () => {
    const id = jobId(secondsAgo(20), 91);
    const other = jobId(secondsAgo(30), 92);
    web.jobs.jobs.set(id, jobView(id, { state: 'done', done: 2, total: 2 }, secondsAgo(20)));
    web.jobs.jobs.set(other, jobView(other, { state: 'failed' }, secondsAgo(30)));
    const name = web.jobs.jobs.get(id)!.name;
    // One page acts; one follows the job by its link; one shows it as the newest job.
    const [acting, linked, listing] = await Promise.all([
      openDashboard(browser, `${web.url}/#/jobs/${id}`),
      openDashboard(browser, `${web.url}/#/jobs/${id}`),
      openDashboard(browser, web.url),
    ]);
    for (const page of [linked, listing]) {
      await page.locator(`.job[data-job-id="${id}"]`).waitFor();
      await page.locator('#detail-title', { hasText: name }).waitFor();
    }
    await acting.locator('#action-delete').click();
    await acting.locator('#confirm-ok').click();
    for (const page of [linked, listing]) {
      await page.locator(`.job[data-job-id="${id}"]`).waitFor({ state: 'detached' });
      await page.locator(`.job[data-job-id="${other}"]`).waitFor();
      // The detail no longer shows the deleted job: the linked page drops its link, the
      // listing page picks the next job by itself.
      await page.waitForFunction((gone) => !location.hash.includes(gone), id);
      await page.locator('#detail-title', { hasText: name }).waitFor({ state: 'detached' });
    }
    await listing.locator('#detail-title', { hasText: web.jobs.jobs.get(other)!.name }).waitFor();
    assert.equal(web.jobs.jobs.has(id), false);
    await Promise.all([acting.close(), linked.close(), listing.close()]);
    web.jobs.jobs.delete(other);
  });

  it('lists a job’s attempts in a table whose rows the timeline bars select', async () => {
    // One clock reading for all: attempts claimed at the same moment must tie, not differ by
    // the milliseconds between two readings.
    const now = Date.now();
    const ago = (s: number) => new Date(now - s * 1000);
    const id = jobId(ago(60), 88);
    const failed = {
      ...attempt('histogram', 1, 'pod-2', ago(50), ago(47)),
      outcome: 'failed' as const,
      error: 'disk on fire',
    };
    // Finished attempts name the pool thread that did the work; a failed one has none.
    const attempts = [
      { ...attempt('histogram', 0, 'pod-1', ago(50), ago(44)), thread: 2 },
      failed,
      { ...attempt('histogram', 1, 'pod-3', ago(46), ago(40)), attempt: 2, thread: 1 },
      { ...attempt('equalize', 0, 'pod-1', ago(38), ago(35)), thread: 1 },
      { ...attempt('equalize', 1, 'pod-1', ago(38), ago(33)), thread: 2 },
    ];
    web.jobs.jobs.set(id, jobView(id, { state: 'done', done: 2, total: 2, attempts }, ago(60)));
    const page = await openDashboard(browser, `${web.url}/#/jobs/${id}`);
    await page.locator('#attempts tbody tr').nth(4).waitFor();
    const rows = await page
      .locator('#attempts tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) =>
          [...(tr as unknown as { cells: Iterable<{ textContent: string }> }).cells].map(
            (c) => c.textContent,
          ),
        ),
      );
    // Claimed order; durations from the attempts' own times; each attempt's own thread.
    assert.deepEqual(
      rows.map((r) => [r[0], r[1], r[2], r[3], r[5], r[6], r[7]]),
      [
        ['histogram 0', 'map', 'pod-1', '2', '6.0 s', 'done', ''],
        ['histogram 1', 'map', 'pod-2', '', '3.0 s', 'failed', 'disk on fire'],
        ['histogram 1 (attempt 2)', 'map', 'pod-3', '1', '6.0 s', 'done', ''],
        ['equalize 0', 'equalize', 'pod-1', '1', '3.0 s', 'done', ''],
        ['equalize 1', 'equalize', 'pod-1', '2', '5.0 s', 'done', ''],
      ],
    );
    // A bar selects its row; another bar moves the selection.
    await page.locator('#timeline .lane[data-pod="pod-2"] .bar').click();
    await page.locator('#attempts tr.selected', { hasText: 'disk on fire' }).waitFor();
    await page.locator('#timeline .lane[data-pod="pod-1"] .bar', { hasText: 'E1' }).click();
    await page.locator('#attempts tr.selected', { hasText: 'equalize 1' }).waitFor();
    assert.equal(await page.locator('#attempts tr.selected').count(), 1);
    assert.equal(await page.locator('#timeline .bar.selected').textContent(), 'E1');

    // One task's log lines, one click away.
    const line = (task: string, msg: string) => ({
      pod: 'pod-2',
      log: JSON.stringify({
        level: 'warn',
        time: '2026-12-01T10:00:00.000Z',
        job: id,
        task,
        attempt: 1,
        msg,
      }),
    });
    web.events.emit('node_log', line('histogram/1', 'task failed; released for a retry'));
    web.events.emit('node_log', line('histogram/0', 'task done'));
    await page.locator('.line', { hasText: 'task done' }).first().waitFor();
    await page.locator('#attempts tbody tr', { hasText: 'disk on fire' }).locator('button').click();
    assert.equal(await page.locator('#log-filter').inputValue(), `job=${id} task=histogram/1`);
    await page.locator('.line:not([hidden])', { hasText: 'released for a retry' }).waitFor();
    assert.equal(await page.locator('.line:not([hidden])', { hasText: 'task done' }).count(), 0);
    await page.close();
    web.jobs.jobs.delete(id);
  });
});

declare const location: { hash: string };
declare const document: { querySelectorAll(selector: string): Iterable<{ hidden: boolean }> };
