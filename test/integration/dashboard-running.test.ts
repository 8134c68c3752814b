import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openDashboard, TEST_OUTPUT, waitForPreviews } from '../support/browser.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { lowContrastImage, writeImage } from '../support/images.js';

/**
 * A real cluster whose equalize tasks and stitch step are slowed by the test-only fault
 * injection, so the page can be watched while a job sits in those phases.
 */
describe('the dashboard while a real job equalizes and stitches', { timeout: 120_000 }, () => {
  let tc: TestCluster;
  let browser: Browser;
  let page: Page;

  before(async () => {
    const faults = { delayMs: { equalize: 6_000, stitch: 4_000 } };
    [tc, browser] = await Promise.all([
      startTestCluster({ pods: 3, env: { FAULT_INJECTION: JSON.stringify(faults) } }),
      launchChromium(),
    ]);
    page = await openDashboard(browser, tc.url);
  });

  after(async () => {
    await browser?.close();
    await tc?.close();
  });

  it('shows the previews before the job is done and an animated stitch step', async () => {
    const path = join(tc.dir, 'slow.png');
    await writeImage(lowContrastImage(320, 240, 1, 8, 5), path, 'png');
    await page.setInputFiles('#image', path);
    const item = page.locator('.job', { hasText: 'slow.png' });
    await item.and(page.locator('[data-state="equalizing"]')).waitFor({ timeout: 30_000 });
    await waitForPreviews(page);
    await page.locator('#hist-out[data-scale]').waitFor({ timeout: 5_000 });
    assert.equal(await item.getAttribute('data-state'), 'equalizing', 'previews came before done');
    assert.equal(await page.locator('#download').isHidden(), true);

    // Stitching: the step's bar is indeterminate (it animates) and says how long it has run.
    await item.and(page.locator('[data-state="stitching"]')).waitFor({ timeout: 30_000 });
    const stitch = item.locator('.phase[data-phase="stitching"]');
    await stitch.locator('progress[data-running="true"]:not([value])').waitFor({ timeout: 2_000 });
    assert.match(
      (await stitch.locator('.phase-count').textContent()) ?? '',
      /^\d+\.\d s$|^running$/,
    );
    assert.match((await page.locator('#detail-state').textContent()) ?? '', /^Stitching \(running/);
    await page.screenshot({ path: join(TEST_OUTPUT, 'dashboard-stitching.png'), fullPage: true });

    await item.and(page.locator('[data-state="done"]')).waitFor({ timeout: 30_000 });
    assert.equal(await stitch.locator('progress').getAttribute('value'), '1');
    await page.locator('#download:not([hidden])').waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#results-error').isHidden(), true);
  });
});
