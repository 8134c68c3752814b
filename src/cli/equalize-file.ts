import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeImage, type ImageInfo } from '../imaging/codec.js';
import type { ColourMode } from '../imaging/types.js';
import type { ImagePool } from '../pool/image-pool.js';
import { sharedLayout } from '../jobs/paths.js';
import { jobFiles } from '../jobs/phase-tasks.js';
import { stripRefs } from '../jobs/plan.js';

export interface EqualizeFileOptions {
  mode: ColourMode;
  tasks: number;
  page: number;
  maxPixels: number;
  pool: ImagePool;
  /** Called after every step with the steps done so far and the total. */
  onProgress?: (done: number, total: number, phase: string) => void;
  /** The input's header when the caller has already probed it. */
  info?: ImageInfo;
}

export interface EqualizeFileResult {
  info: ImageInfo;
  tasks: number;
  seconds: number;
}

/**
 * The single-process pipeline: split → histogram → reduce → equalize → stitch, each step in the
 * pool, exactly what the cluster distributes (same plan, same files, same kernels). The output
 * is written atomically, so a failure leaves no output file behind.
 */
export async function equalizeFile(
  input: string,
  output: string,
  options: EqualizeFileOptions,
): Promise<EqualizeFileResult> {
  const started = performance.now();
  const info =
    options.info ?? (await probeImage(input, { page: options.page, maxPixels: options.maxPixels }));
  const workDir = await mkdtemp(join(tmpdir(), 'histeq-'));
  try {
    // The cluster's own file plan, in a private SHARED_DIR: the same files the pods would use.
    const shared = sharedLayout(workDir);
    const plan = jobFiles(shared, 'cli');
    await mkdir(shared.abs(plan.dir), { recursive: true });
    const files = {
      raw: shared.abs(plan.raw),
      equalized: (i: number) => shared.abs(plan.strip(i)),
    };
    const refs = stripRefs(files.raw, info.layout, options.tasks);
    const total = 3 + 2 * refs.length;
    let done = 0;
    const step = (phase: string) => options.onProgress?.(++done, total, phase);

    await options.pool.stage(input, info, files.raw);
    step('split');
    const histograms = await Promise.all(
      refs.map((ref) => options.pool.histogram(ref, options.mode).finally(() => step('histogram'))),
    );
    const { lut } = await options.pool.lut(histograms, info.layout, options.mode);
    step('reduce');
    await Promise.all(
      refs.map((source, i) =>
        options.pool
          .equalize({ source, mode: options.mode, lut, outPath: files.equalized(i) })
          .finally(() => step('equalize')),
      ),
    );
    await options.pool.stitch(
      refs.map((_, i) => files.equalized(i)),
      info,
      output,
    );
    step('stitch');
    return { info, tasks: refs.length, seconds: (performance.now() - started) / 1000 };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
