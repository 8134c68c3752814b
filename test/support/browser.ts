import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, never a downloaded browser; flags for a headless run in a container. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * Browser globals as used inside page.evaluate callbacks, which run in the page: the tests
 * compile without the DOM library, so only what they touch is declared.
 */
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
interface PageImage {
  complete: boolean;
  naturalWidth: number;
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
