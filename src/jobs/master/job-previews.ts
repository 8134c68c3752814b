import { access, mkdir } from 'node:fs/promises';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { ClaheParams } from '../../imaging/clahe/grid.js';
import { encodePreview } from '../../imaging/codec.js';
import { planPreview, PREVIEW_MAX_SIDE, toEightBit } from '../../imaging/preview.js';
import type { ColourMode, Lut } from '../../imaging/types.js';
import type { ImagePool } from '../../pool/image-pool.js';
import type { StripRef } from '../../pool/protocol.js';
import { writeHashedFileAtomic } from '../../pool/strip-io.js';
import type { JobStats } from './job-stats.js';
import type { SharedLayout } from '../paths.js';
import { absoluteRef, type JobStorage } from '../storage/job-storage.js';
import type { JobRecord } from '../types.js';

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
  /** The whole image's raw samples (the raw TIFF itself or the staged decode), absolute path. */
  source: StripRef;
  /** Set: the preview's source rows as the histogram tasks picked them, absolute, by strip. */
  parts?: string[];
  lut: Lut;
  /** Set: CLAHE, `lut` holding every tile's table. */
  clahe?: ClaheParams;
}

/**
 * Browsers cannot show TIFF or 16-bit data faithfully: previews are 8-bit PNGs of sampled
 * pixels (imaging/preview.ts), made once the LUT exists, so they are ready long before the
 * result. A pool thread samples them with synchronous row reads (10–20 ms, at the pool's low
 * priority); the first version read the rows asynchronously from the event loop, a thousand
 * round trips at full priority that took CPU from the equalize tasks for 0.2–0.4 s. libvips
 * encodes the PNGs on its own threads. Skipped when they exist (a resumed job); a failure only
 * costs the preview (the UI shows a placeholder), never the job.
 */
export async function writePreviews(
  shared: SharedLayout,
  pool: ImagePool,
  job: PreviewJob,
  logger: Logger,
): Promise<void> {
  const started = performance.now();
  const paths = { in: previewPath(shared, job.id, 'in'), out: previewPath(shared, job.id, 'out') };
  try {
    if ((await exists(paths.in)) && (await exists(paths.out))) return;
    await mkdir(shared.results, { recursive: true });
    const plan = planPreview(job.source.layout, PREVIEW_MAX_SIDE);
    const { source, mode, lut, clahe } = job;
    const parts = job.parts ? { parts: job.parts } : {};
    const { input, output } = await pool.preview({
      source,
      plan,
      mode,
      lut,
      ...parts,
      ...(clahe ? { clahe } : {}),
    });
    const layout8 = { ...plan.layout, depth: 8 } as const;
    await Promise.all([
      encodePreview(toEightBit(input, plan.layout), layout8, paths.in),
      encodePreview(toEightBit(output, plan.layout), layout8, paths.out),
    ]);
    logger.debug({ job: job.id, ms: Math.round(performance.now() - started) }, 'previews');
  } catch (err) {
    logger.warn({ err: errorMessage(err), job: job.id }, 'could not make the previews');
  }
}

const previewPath = (shared: SharedLayout, id: string, which: PreviewWhich) =>
  `${shared.results}/${previewName(id, which)}`;

export async function writeStats(
  shared: SharedLayout,
  stats: JobStats,
  logger: Logger,
): Promise<void> {
  try {
    await mkdir(shared.results, { recursive: true });
    await writeHashedFileAtomic(
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

/** A job's previews, from its source as its storage reads it (by strip where it has parts). */
export function writeJobPreviews(
  shared: SharedLayout,
  pool: ImagePool,
  storage: JobStorage,
  job: JobRecord,
  lut: Lut,
  log: Logger,
): Promise<void> {
  const part = storage.previewPart?.bind(storage);
  const parts = part
    ? { parts: Array.from({ length: job.tasks }, (_, i) => shared.abs(part(i))) }
    : {};
  const preview: PreviewJob = {
    id: job.id,
    mode: job.options.mode,
    source: absoluteRef(shared, storage.source),
    lut,
    ...(job.options.clahe ? { clahe: job.options.clahe } : {}),
    ...parts,
  };
  return writePreviews(shared, pool, preview, log);
}
