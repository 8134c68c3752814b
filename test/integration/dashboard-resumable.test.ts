import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, openDashboard } from '../support/browser.js';
import { eventually } from '../support/cluster.js';
import { captureLogger } from '../support/capture-logger.js';
import { startWebHarness, type WebHarness } from '../support/web-harness.js';

describe('the page uploads through tus', { timeout: 120_000 }, () => {
  const captured = captureLogger();
  let web: WebHarness;
  let browser: Browser;
  before(async () => {
    [web, browser] = await Promise.all([
      startWebHarness({ maxUploadBytes: 16 * 1024 * 1024, logger: captured.logger }),
      launchChromium(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await web?.close();
  });

  const tusDir = () => join(web.sharedDir, 'resumable');
  const storedBytes = async () => {
    const names = await readdir(tusDir()).catch(() => [] as string[]);
    const sizes = await Promise.all(
      names
        .filter((n) => /^[0-9a-f]{32}$/.test(n))
        .map((n) => stat(join(tusDir(), n)).then((s) => s.size)),
    );
    return Math.max(0, ...sizes);
  };

  it('shows progress and resumes from the stored offset after the master drops the transfer', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const page = await openDashboard(browser, web.url);
    // A slow uplink (about 10 s for the file), so the transfer can be cut mid-way.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 300_000,
    });
    await page.locator('#mode').selectOption('per-channel');
    await page.setInputFiles('#image', { name: 'scan.png', mimeType: 'image/png', buffer: data });
    await page.locator('.upload-row .message', { hasText: /Uploading \d+%/ }).waitFor();
    await eventually(
      'a third of the file stored',
      async () => (await storedBytes()) > data.length / 3,
    );

    // This pod stops being master: its transfer is cut, and the next requests get 503.
    web.role.isMaster = false;
    web.role.masterPod = 'pod-2';
    await eventually('the transfer dropped', () =>
      captured.events().some((e) => e.msg === 'resumable upload transfer dropped'),
    );
    const cutAt = await storedBytes();
    await page.locator('.upload-row .message', { hasText: 'resuming' }).waitFor();
    web.role.isMaster = true;
    web.role.masterPod = 'pod-1';

    await page.locator('.upload-row[data-state="accepted"]').waitFor({ timeout: 60_000 });
    const [request] = web.jobs.submitted;
    assert.ok(request, 'the job service got the upload');
    assert.deepEqual(await readFile(request.path), data);
    assert.equal(request.originalName, 'scan.png');
    assert.equal(request.options.mode, 'per-channel');
    const message = await page.locator('.upload-row .message').textContent();
    const jobId = [...web.jobs.jobs.keys()][0]!;
    assert.equal(message, `Accepted as job ${jobId}.`);
    await page.locator(`.job.selected[data-job-id="${jobId}"]`).waitFor();

    const starts = captured
      .events()
      .filter((e) => e.msg === 'resumable upload receiving' && e.method === 'PATCH');
    const resumedAt = starts.map((e) => Number(e.offset)).filter((o) => o > 0);
    assert.ok(resumedAt.length > 0, JSON.stringify(starts));
    assert.ok(Math.min(...resumedAt) >= cutAt * 0.5, `resumed at ${resumedAt}, cut at ${cutAt}`);
    console.log(`page upload cut at ${cutAt} of ${data.length} bytes, resumed at ${resumedAt[0]}`);
    await page.close();
  });
});
