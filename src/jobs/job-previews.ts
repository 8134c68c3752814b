import { access, mkdir } from 'node:fs/promises';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { ColourMode, Lut } from '../imaging/types.js';
import type { ImagePool } from '../pool/image-pool.js';
import type { StripRef } from '../pool/protocol.js';
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

export interface PreviewJob {
  id: string;
  mode: ColourMode;
  /** The whole image's raw samples (the raw TIFF itself or the staged decode). */
  source: StripRef;
  lut: Lut;
}

/**
 * Browsers cannot show TIFF or 16-bit data faithfully: previews are 8-bit PNGs of sampled
 * pixels (imaging/preview.ts), made in the pool from the source and the LUT once the LUT exists,
 * so they are ready long before the result. Skipped when they exist (a resumed job); a failure
 * only costs the preview (the UI shows a placeholder), never the job.
 */
export async function writePreviews(
  pool: ImagePool,
  shared: SharedLayout,
  job: PreviewJob,
  logger: Logger,
): Promise<void> {
  await mkdir(shared.results, { recursive: true });
  await Promise.all(
    (['in', 'out'] as const).map(async (which) => {
      const outPath = `${shared.results}/${previewName(job.id, which)}`;
      if (await exists(outPath)) return;
      const started = performance.now();
      try {
        await pool.preview({
          source: job.source,
          maxSide: PREVIEW_MAX_SIDE,
          mode: job.mode,
          ...(which === 'out' ? { lut: job.lut } : {}),
          outPath,
        });
        logger.debug({ preview: outPath, ms: Math.round(performance.now() - started) }, 'preview');
      } catch (err) {
        logger.warn({ err: errorMessage(err), preview: outPath }, 'could not make a preview');
      }
    }),
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
