import { randomBytes } from 'node:crypto';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { writeFileAtomic } from '../pool/strip-io.js';
import type { JobStats } from './job-stats.js';
import type { SharedLayout } from './paths.js';

/** Longest side of a preview: enough for a side-by-side view, small enough to load at once. */
export const PREVIEW_MAX_SIDE = 1024;

export type PreviewWhich = 'in' | 'out';

/**
 * Files next to the result in `results/`. Their names contain a second dot, so the download
 * route (`<id>.<ext>` only) never serves them: they have their own routes.
 */
export const previewName = (id: string, which: PreviewWhich) => `${id}.${which}.png`;
export const statsName = (id: string) => `${id}.stats.json`;

/**
 * Browsers cannot show TIFF or 16-bit data faithfully: a preview is an 8-bit sRGB PNG, shrunk
 * to fit. sharp does the work on libuv's threads, so the event loop only waits. Written to a
 * temporary name and renamed like every shared file; skipped when it exists (a resumed job).
 */
export async function writePreview(
  source: string,
  page: number,
  outPath: string,
  logger: Logger,
): Promise<void> {
  if (await exists(outPath)) return;
  const tmp = `${outPath}.${randomBytes(4).toString('hex')}.tmp`;
  const started = performance.now();
  try {
    await mkdir(dirname(outPath), { recursive: true });
    await sharp(source, { page, limitInputPixels: false })
      .resize({
        width: PREVIEW_MAX_SIDE,
        height: PREVIEW_MAX_SIDE,
        fit: 'inside',
        withoutEnlargement: true,
      })
      .toColourspace('srgb')
      .png({ compressionLevel: 6 })
      .toFile(tmp);
    await rename(tmp, outPath);
    logger.debug({ preview: outPath, ms: Math.round(performance.now() - started) }, 'preview');
  } catch (err) {
    // A preview is a convenience: the job goes on without one, the UI shows a placeholder.
    await rm(tmp, { force: true });
    logger.warn({ err: errorMessage(err), preview: outPath }, 'could not make a preview');
  }
}

export async function writeInputPreview(
  shared: SharedLayout,
  job: { id: string; upload: string; info: { page: number } },
  logger: Logger,
): Promise<void> {
  await writePreview(
    shared.abs(job.upload),
    job.info.page,
    `${shared.results}/${previewName(job.id, 'in')}`,
    logger,
  );
}

export async function writeStats(
  shared: SharedLayout,
  stats: JobStats,
  logger: Logger,
): Promise<void> {
  try {
    await mkdir(shared.results, { recursive: true });
    await writeFileAtomic(
      `${shared.results}/${statsName(stats.id)}`,
      new TextEncoder().encode(JSON.stringify(stats)),
    );
  } catch (err) {
    logger.warn({ err: errorMessage(err) }, 'could not write the job stats');
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
