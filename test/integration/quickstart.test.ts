import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { launchChromium, waitForDrawnCanvas, waitForLoadedImage } from '../support/browser.js';
import { eventually, uploadFile, waitForJob } from '../support/cluster.js';
import { CLI, REPO_ROOT, useTempDir } from '../support/paths.js';
import { startQuickstart, type Quickstart } from '../support/quickstart.js';

const exec = promisify(execFile);
const SAMPLES = join(REPO_ROOT, 'samples');

/**
 * The README's quick start as a newcomer follows it: `npm run local` with no settings (so the
 * shared folder is the default `.local/shared`), a sample image from samples/, results fetched
 * and seen in a real Chromium. Expected results come from the single-process CLI.
 */
describe('the quick start on its defaults', { timeout: 240_000 }, () => {
  let qs: Quickstart;
  let browser: Browser;
  const tmp = useTempDir('quickstart-out-');

  /** What `npm run -s cli -- equalize IN OUT` writes for the same file. */
  async function cliResult(input: string): Promise<Buffer> {
    const output = join(tmp(), `cli-${basename(input)}`);
    await exec(process.execPath, [CLI, 'equalize', input, output], { timeout: 60_000 });
    return readFile(output);
  }

  before(async () => {
    [qs, browser] = await Promise.all([startQuickstart(), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    if (qs) assert.equal(await qs.stop(), 0, `Ctrl-C did not stop cleanly:\n${qs.output()}`);
  });

  it('serves the previews, stats and result of an uploaded sample from .local/shared', async (t) => {
    if (qs.portNote) t.diagnostic(qs.portNote);
    else assert.match(qs.url, /^http:\/\/localhost:8080$/);
    assert.match(qs.sharedDir, /\/\.local\/shared$/);
    const sample = join(SAMPLES, 'dusk-grey.tif');
    const { status, body } = await uploadFile(qs.url, await readFile(sample), 'dusk-grey.tif');
    assert.equal(status, 200, JSON.stringify(body));
    const id = String(body.job_id);
    const job = await waitForJob(qs.url, id);
    assert.equal(job.state, 'done', job.error);

    for (const which of ['in', 'out']) {
      const res = await eventually(`the ${which} preview`, async () => {
        const r = await fetch(`${qs.url}/api/jobs/${id}/preview/${which}`);
        return r.status === 404 ? null : r;
      });
      assert.equal(res.status, 200, `${which} preview: ${await res.clone().text()}`);
      assert.equal(res.headers.get('content-type'), 'image/png');
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      assert.ok((meta.width ?? 0) > 0 && (meta.height ?? 0) > 0, `${which}: ${meta.width}`);
    }
    const stats = await fetch(`${qs.url}/api/jobs/${id}/stats`);
    assert.equal(stats.status, 200);
    const histograms = (await stats.json()) as { input: number[]; output: number[] };
    assert.ok(histograms.input.length > 0 && histograms.output.length > 0);

    const result = await fetch(`${qs.url}${job.url}`);
    assert.equal(result.status, 200, await result.clone().text());
    assert.deepEqual(Buffer.from(await result.arrayBuffer()), await cliResult(sample));
    // The files really are in the default folder, dot segment and all.
    assert.ok((await readdir(join(qs.sharedDir, 'results'))).some((f) => f.startsWith(id)));
  });

  it('in Chromium: upload through the page, previews and histograms render, download is exact', async () => {
    const sample = join(SAMPLES, 'haze-rgb.png');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // What the page asks for may be 404 before it exists, never forbidden or broken.
    const refused: string[] = [];
    page.on('response', (r) => {
      if (r.status() === 403 || r.status() >= 500) refused.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(qs.url);
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });
    await page.setInputFiles('#image', sample);
    const item = page.locator('.job', { hasText: 'haze-rgb.png' });
    await item.and(page.locator('[data-state="done"]')).waitFor({ timeout: 60_000 });
    await item.click(); // a user looks at the job they uploaded

    await waitForLoadedImage(page, 'preview-in');
    await waitForLoadedImage(page, 'preview-out');
    await waitForDrawnCanvas(page, 'hist-in');
    await waitForDrawnCanvas(page, 'hist-out');

    const link = page.locator('#download');
    await page.waitForFunction(
      () =>
        /\/download\/[^/]+\.png$/.test(
          document.getElementById('download')?.getAttribute('href') ?? '',
        ),
      undefined,
      { timeout: 20_000, polling: 100 },
    );
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 30_000 }),
      link.click(),
    ]);
    const saved = join(tmp(), 'downloaded.png');
    await download.saveAs(saved);
    assert.deepEqual(await readFile(saved), await cliResult(sample));
    assert.deepEqual(refused, [], 'no request of the page was forbidden or failed');
    await page.close();
  });
});

declare const document: {
  getElementById(id: string): { getAttribute(n: string): string | null } | null;
};
