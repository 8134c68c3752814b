import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openDashboard, TEST_OUTPUT, waitForPreviews } from '../support/browser.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { lowContrastImage, writeImage } from '../support/images.js';
import { CLI } from '../support/paths.js';

const exec = promisify(execFile);

describe('the dashboard runs a CLAHE job from its form', { timeout: 120_000 }, () => {
  let tc: TestCluster;
  let browser: Browser;
  let page: Page;

  before(async () => {
    [tc, browser] = await Promise.all([startTestCluster({ pods: 2 }), launchChromium()]);
    page = await openDashboard(browser, tc.url);
  });

  after(async () => {
    await browser?.close();
    await tc?.close();
  });

  it('sends method, clip limit and tiles; the detail names them; the result equals the CLI', async () => {
    const path = join(tc.dir, 'adaptive.png');
    await writeImage(lowContrastImage(160, 120, 1, 8, 51), path, 'png');
    const args = ['--method', 'clahe', '--clip-limit', '2.5', '--tiles', '5x3'];
    await exec('node', [CLI, 'equalize', path, `${path}.cli.png`, ...args]);

    await page.selectOption('#method', 'clahe');
    await page.fill('#clip_limit', '2.5');
    await page.fill('#tiles', '5x3');
    await page.setInputFiles('#image', path);
    const item = page.locator('.job', { hasText: 'adaptive.png' });
    await item.and(page.locator('[data-state="done"]')).waitFor({ timeout: 60_000 });
    await page.locator('#detail-facts', { hasText: 'CLAHE, clip limit 2.5, 5×3 tiles' }).waitFor();
    await waitForPreviews(page);
    const href = await page.locator('#download:not([hidden])').getAttribute('href');
    assert.ok(href);
    const result = await fetch(new URL(href, tc.url));
    const expected = await readFile(`${path}.cli.png`);
    const { default: sharp } = await import('sharp');
    assert.deepEqual(
      await sharp(Buffer.from(await result.arrayBuffer()))
        .raw()
        .toBuffer(),
      await sharp(expected).raw().toBuffer(),
    );
    // No histogram charts for CLAHE, and no failure for their absence.
    assert.equal(await page.locator('#charts').isHidden(), true);
    assert.equal(await page.locator('#results-error').isHidden(), true);
    await page.screenshot({ path: join(TEST_OUTPUT, 'dashboard-clahe.png'), fullPage: true });
  });
});
