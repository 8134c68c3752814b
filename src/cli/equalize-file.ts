import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { DoneRecord } from '../coordination/index.js';
import { checkClaheParams, type ClaheBand, type ClaheParams } from '../imaging/clahe/grid.js';
import { probeImage } from '../imaging/probe.js';
import type { ImageInfo } from '../imaging/image-info.js';
import type { ColourMode, Lut } from '../imaging/types.js';
import type { ImagePool } from '../pool/image-pool.js';
import type { StripRef } from '../pool/protocol.js';
import { sharedLayout, type SharedLayout } from '../jobs/paths.js';
import { jobFiles } from '../jobs/job-files.js';
import { taskCountFor } from '../jobs/plan.js';
import { claheBands } from '../jobs/clahe-job.js';
import { absoluteRef, storageFor } from '../jobs/storage/job-storage.js';

export interface EqualizeFileOptions {
  mode: ColourMode;
  /** Set: CLAHE with these parameters instead of global equalization. */
  clahe?: ClaheParams;
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

/** The job id of the CLI's one job in its private SHARED_DIR. */
const JOB = 'cli';

/**
 * The single-process pipeline: split → histogram → reduce → equalize → stitch, each step in the
 * pool, exactly what the cluster distributes: the same storage strategy (chosen from the probe),
 * plan, files and kernels, in a private SHARED_DIR. Strategies publish their result atomically,
 * so a failure leaves no output file behind.
 */
export async function equalizeFile(
  input: string,
  output: string,
  options: EqualizeFileOptions,
): Promise<EqualizeFileResult> {
  const started = performance.now();
  const info =
    options.info ?? (await probeImage(input, { page: options.page, maxPixels: options.maxPixels }));
  if (options.clahe) checkClaheParams(options.clahe, info.layout, options.mode);
  // The cluster's split: strips under the 32-bit count limit, chunked pages at chunk rows.
  const planned = { ...options, tasks: taskCountFor(info, options.tasks) };
  // Beside the output: a strategy may finish with a rename, which cannot cross file systems.
  const workDir = await mkdtemp(join(dirname(resolve(output)), '.histeq-'));
  try {
    const tasks = await equalizeIn(sharedLayout(workDir), input, resolve(output), info, planned);
    return { info, tasks, seconds: (performance.now() - started) / 1000 };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function equalizeIn(
  shared: SharedLayout,
  input: string,
  output: string,
  info: ImageInfo,
  options: EqualizeFileOptions,
): Promise<number> {
  // The input is the job's upload, linked rather than copied.
  const upload = 'uploads/cli.upload';
  await mkdir(shared.uploads, { recursive: true });
  await symlink(resolve(input), shared.abs(upload));
  await mkdir(shared.abs(jobFiles(shared, JOB).dir), { recursive: true });
  const storage = storageFor(shared, JOB, upload, info);
  await storage.prepareSource(options.pool);
  const strips = storage.strips(options.tasks);
  const sources = strips.map((ref) => absoluteRef(shared, ref));
  const bands = claheBands(info, options.clahe, options.tasks);
  const step = progress(options, 3 + 2 * strips.length);
  step('split');
  const kept = (i: number) => {
    const part = storage.decodedPart?.(i);
    return part ? shared.abs(part) : undefined;
  };
  const lut = await globalLut(sources, bands, info, options, step, kept);
  const outputs = await storage.prepareOutputs(strips);
  const dones = await Promise.all(
    sources.map(async (source, i): Promise<DoneRecord> => {
      const out = outputs[i]!;
      const decoded = kept(i);
      const { sha256 } = await options.pool.equalize({
        source,
        mode: options.mode,
        lut,
        outPath: shared.abs(out.path),
        ...(out.offset !== undefined ? { outOffset: out.offset } : {}),
        ...(out.encoded ? { encoded: true } : {}),
        ...(decoded ? { decoded } : {}),
        ...bands[i],
      });
      step('equalize');
      // What a task's `done` would record; the CLI is its only pod and never retries.
      return {
        pointer: out.path,
        checksum: sha256,
        ...(out.offset !== undefined ? { offset: out.offset } : {}),
        pod: JOB,
        attempt: 1,
        completedAt: new Date().toISOString(),
      };
    }),
  );
  await storage.finish(options.pool, dones, output);
  step('stitch');
  return strips.length;
}

/**
 * Map and reduce: the histogram of every strip, summed into the LUT of the whole image; for
 * CLAHE, the per-tile histograms of every strip, summed into every tile's table. `kept`: where
 * a chunked page's histogram step keeps the decoded band for the equalize step.
 */
async function globalLut(
  sources: StripRef[],
  bands: { clahe?: ClaheBand }[],
  info: ImageInfo,
  options: EqualizeFileOptions,
  step: (phase: string) => void,
  kept: (index: number) => string | undefined,
): Promise<Lut> {
  const histograms = await Promise.all(
    sources.map((ref, i) => {
      const keepDecoded = kept(i);
      const clahe = bands[i]?.clahe;
      return options.pool
        .histogram(ref, options.mode, {
          ...(clahe ? { clahe } : {}),
          ...(keepDecoded ? { keepDecoded } : {}),
        })
        .finally(() => step('histogram'));
    }),
  );
  const { lut } = await options.pool.lut(histograms, info.layout, options.mode, options.clahe);
  step('reduce');
  return lut;
}

function progress(options: EqualizeFileOptions, total: number): (phase: string) => void {
  let done = 0;
  return (phase) => options.onProgress?.(++done, total, phase);
}
