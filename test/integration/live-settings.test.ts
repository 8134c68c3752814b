import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { SettingsView } from '../../src/jobs/live-settings.js';
import { launchChromium, openDashboard } from '../support/browser.js';
import {
  eventually,
  startTestCluster,
  uploadFile,
  waitForJob,
  type TestCluster,
} from '../support/cluster.js';
import { solidPng } from '../support/images.js';

/** `/config/mapreduce_params` through the API and the page, against a real 3-pod cluster. */
describe('live settings', { timeout: 150_000 }, () => {
  let tc: TestCluster;
  let browser: Browser;
  before(async () => {
    [tc, browser] = await Promise.all([startTestCluster({ pods: 3 }), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    await tc?.close();
  });

  const read = async () => (await (await fetch(`${tc.url}/api/config`)).json()) as SettingsView;
  const put = (body: unknown) =>
    fetch(`${tc.url}/api/config`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  const allConverged = (version: number | null) =>
    eventually(`every pod on version ${version}`, async () => {
      const view = await read();
      return view.pods.length === 3 && view.pods.every((p) => p.converged && p.version === version)
        ? view
        : null;
    });

  it('shows every pod converging on a change, and new jobs follow it', async () => {
    const start = await read();
    assert.equal(start.path, '/config/mapreduce_params');
    await allConverged(start.version);

    const res = await put({ tasks_per_job: 5 });
    assert.equal(res.status, 200);
    const written = (await res.json()) as SettingsView;
    assert.deepEqual(written.params, { tasks_per_job: 5 });
    const view = await allConverged(written.version);
    assert.ok(view.pods.every((p) => p.params?.tasks_per_job === 5));

    const up = await uploadFile(tc.url, await solidPng(30), 'five.png');
    const job = await waitForJob(tc.url, String(up.body.job_id));
    assert.equal(job.state, 'done', job.error);
    assert.equal(job.total, 5);

    const bad = await put({ tasks_per_job: 0 });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /whole number from 1 to 4096/);
    assert.deepEqual(
      (await read()).params,
      { tasks_per_job: 5 },
      'a refused value changes nothing',
    );
  });

  it('is changed from the page, which shows each pod catch up', async () => {
    const page = await openDashboard(browser, tc.url);
    await page.locator('#settings-pods tr').nth(2).waitFor({ timeout: 15_000 });
    await page.locator('#tasks-per-job').fill('3');
    await page.locator('#settings-form button[type="submit"]').click();
    await page.locator('#settings-current', { hasText: '3 tasks per job phase' }).waitFor();
    const version = Number(await page.locator('#settings-current').getAttribute('data-version'));
    await page
      .locator('#settings-pods tr[data-converged="true"]')
      .nth(2)
      .waitFor({ timeout: 15_000 });
    const rows = await page.locator('#settings-pods tr').allTextContents();
    assert.equal(rows.length, 3);
    for (const row of rows) assert.ok(row.includes(`3v${version}up to date`), row);

    await page.locator('#settings-default').click();
    await page.locator('#settings-current', { hasText: 'default' }).waitFor();
    assert.deepEqual((await read()).params, {});
    await page.close();
  });
});
