import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { isFinished, type JobPhase, type JobView, type TaskAttempt } from '../../src/jobs/types.js';
import { solidPng } from './images.js';
import { REPO_ROOT } from './paths.js';
import { startWebHarness, type WebHarness } from './web-harness.js';

/** Debian's Chromium, headless: the tests never download a browser. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export const TEST_OUTPUT = join(REPO_ROOT, 'test-output');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Opens the dashboard and waits until its Socket.IO connection is live. */
export async function openDashboard(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });
  return page;
}

/**
 * Waits until both previews are shown: loaded images with a width (an <img> in the page is
 * checked in the page, since the tests compile without the DOM library).
 */
export async function waitForPreviews(page: Page, timeout = 10_000): Promise<void> {
  for (const id of ['preview-in', 'preview-out']) {
    await page.waitForFunction(
      (id) => {
        const doc = (globalThis as unknown as { document: { getElementById(id: string): unknown } })
          .document;
        const img = doc.getElementById(id) as { complete: boolean; naturalWidth: number };
        return img.complete && img.naturalWidth > 0;
      },
      id,
      { timeout },
    );
  }
}

/**
 * A web harness (in-memory jobs, a real server) and a Chromium for one describe block, started
 * before its tests and closed after them.
 */
export function harnessAndBrowser(): { web: () => WebHarness; browser: () => Browser } {
  let web: WebHarness | null = null;
  let browser: Browser | null = null;
  before(async () => {
    [web, browser] = await Promise.all([startWebHarness(), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    await web?.close();
  });
  return { web: () => web!, browser: () => browser! };
}

/** A job id as the server makes them (creation time in base 36, so ids sort by age). */
export function jobId(createdAt: Date, n: number): string {
  return `${createdAt.getTime().toString(36)}-${n.toString(16).padStart(8, '0')}`;
}

/** A job view as the in-memory job service of the web harness keeps it. */
export function jobView(
  id: string,
  fields: Partial<JobView> & Pick<JobView, 'state'>,
  createdAt = new Date(),
): JobView {
  return {
    id,
    name: `${id}.png`,
    phase: isFinished(fields.state) ? 'stitching' : (fields.state as JobPhase),
    done: 0,
    total: 4,
    msg: fields.state,
    createdAt: createdAt.toISOString(),
    updatedAt: createdAt.toISOString(),
    info: {
      format: 'png',
      layout: { width: 64, height: 48, channels: 1, depth: 8 },
      page: 0,
      pages: 1,
      fileBytes: 1234,
    },
    options: { mode: 'luma', page: 0 },
    phaseMs: {},
    attempts: [],
    masters: ['pod-1'],
    ...fields,
  };
}

export function attempt(
  kind: TaskAttempt['kind'],
  index: number,
  pod: string,
  claimedAt: Date,
  completedAt?: Date,
): TaskAttempt {
  return {
    kind,
    index,
    pod,
    attempt: 1,
    claimedAt: claimedAt.toISOString(),
    ...(completedAt ? { completedAt: completedAt.toISOString() } : {}),
    outcome: completedAt ? 'done' : 'running',
  };
}

/** The previews and stats the master writes into results/ once the LUT exists. */
export async function writeArtifacts(
  sharedDir: string,
  id: string,
  stats: { input: number[]; output: number[] },
): Promise<void> {
  const results = join(sharedDir, 'results');
  await mkdir(results, { recursive: true });
  await writeFile(join(results, `${id}.in.png`), await solidPng(1));
  await writeFile(join(results, `${id}.out.png`), await solidPng(2));
  const cdf = (counts: number[]) => {
    const total = counts.reduce((a, b) => a + b, 0) || 1;
    let sum = 0;
    return counts.map((n) => (sum += n) / total);
  };
  const body = {
    plane: 0,
    depth: 8,
    pixels: stats.input.reduce((a, b) => a + b, 0),
    bins: 256,
    ...stats,
    inputCdf: cdf(stats.input),
    outputCdf: cdf(stats.output),
  };
  await writeFile(join(results, `${id}.stats.json`), JSON.stringify(body));
}

/**
 * Browser globals as used inside page.evaluate callbacks, which run in the page: the tests
 * compile without the DOM library, so only what they touch is declared.
 */
export interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
export interface PageImage {
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
}
declare const document: { getElementById(id: string): unknown };

/** Bounded wait until the <img> with this id has loaded a picture with a width. */
export async function waitForLoadedImage(page: Page, id: string, timeoutMs = 20_000) {
  await page.waitForFunction(
    (imgId) => {
      const img = document.getElementById(imgId) as PageImage | null;
      return !!img && img.complete && img.naturalWidth > 0;
    },
    id,
    { timeout: timeoutMs, polling: 100 },
  );
}

/**
 * Bounded wait until a canvas is drawn: at least 1 % of its pixels differ from its most common
 * colour (the background), whatever colours the chart uses.
 */
export async function waitForDrawnCanvas(page: Page, id: string, timeoutMs = 20_000) {
  await page.waitForFunction(
    (canvasId) => {
      const canvas = document.getElementById(canvasId) as PageCanvas | null;
      if (!canvas || canvas.width === 0 || canvas.height === 0) return false;
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      const counts = new Map<number, number>();
      for (let i = 0; i < data.length; i += 4) {
        const key =
          ((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]) >>> 0;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const background = Math.max(...counts.values());
      const pixels = data.length / 4;
      return pixels - background >= pixels * 0.01;
    },
    id,
    { timeout: timeoutMs, polling: 200 },
  );
}
