import { atomically } from '../common/atomic-file.js';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hasCodecPage, hasRawPixels, probeImage, type ImageInfo } from '../imaging/codec.js';
import type { ChunkGeometry } from '../imaging/tiff-codec/geometry.js';
import { absoluteRef, storageFor } from '../jobs/storage/job-storage.js';
import { createTiffContainer } from '../imaging/raw-tiff.js';
import type { ColourMode, Lut } from '../imaging/types.js';
import type { ImagePool } from '../pool/image-pool.js';
import type { StripRef } from '../pool/protocol.js';
import { sharedLayout } from '../jobs/paths.js';
import { jobFiles } from '../jobs/job-files.js';
import { stripRefs, taskCountFor } from '../jobs/plan.js';

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
  const planned = { ...options, tasks: taskCountFor(info, options.tasks) };
  const tasks = hasRawPixels(info)
    ? await equalizeInPlace(input, output, info, planned)
    : hasCodecPage(info)
      ? await equalizeChunked(input, output, info, planned)
      : await equalizeDecoded(input, output, info, planned);
  return { info, tasks, seconds: (performance.now() - started) / 1000 };
}

/** A raw TIFF: strips read from the input and written into the output container, in place. */
async function equalizeInPlace(
  input: string,
  output: string,
  info: ImageInfo & { rawOffset: number },
  options: EqualizeFileOptions,
): Promise<number> {
  const sources = stripRefs(input, info.layout, options.tasks, info.rawOffset);
  const step = progress(options, 2 + 2 * sources.length);
  await atomically(output, async (tmp) => {
    const lut = await globalLut(sources, info, options, step);
    const pixelOffset = await createTiffContainer(tmp, info.layout);
    const targets = stripRefs(tmp, info.layout, options.tasks, pixelOffset);
    await Promise.all(
      sources.map((source, i) =>
        options.pool
          .equalize({ source, mode: options.mode, lut, outPath: tmp, outOffset: targets[i].offset })
          .finally(() => step('equalize')),
      ),
    );
  });
  step('stitch');
  return sources.length;
}

/** Any other image: decoded once into a raw file, equalized strip files, encoded like the input. */
async function equalizeDecoded(
  input: string,
  output: string,
  info: ImageInfo,
  options: EqualizeFileOptions,
): Promise<number> {
  const workDir = await mkdtemp(join(tmpdir(), 'histeq-'));
  try {
    // The cluster's own file plan, in a private SHARED_DIR: the same files the pods would use.
    const shared = sharedLayout(workDir);
    const plan = jobFiles(shared, 'cli');
    await mkdir(shared.abs(plan.dir), { recursive: true });
    const raw = shared.abs(plan.raw);
    const strip = (i: number) => shared.abs(plan.strip(i));
    const sources = stripRefs(raw, info.layout, options.tasks);
    const step = progress(options, 3 + 2 * sources.length);

    await options.pool.stage(input, info, raw);
    step('split');
    const lut = await globalLut(sources, info, options, step);
    await Promise.all(
      sources.map((source, i) =>
        options.pool
          .equalize({ source, mode: options.mode, lut, outPath: strip(i) })
          .finally(() => step('equalize')),
      ),
    );
    await options.pool.stitch(
      sources.map((_, i) => strip(i)),
      info,
      output,
    );
    step('stitch');
    return sources.length;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * A chunked TIFF page: the cluster's codec storage in a private SHARED_DIR (the input linked
 * into it), so the bands are decoded, encoded and assembled exactly as the pods would.
 */
async function equalizeChunked(
  input: string,
  output: string,
  info: ImageInfo & { codec: ChunkGeometry },
  options: EqualizeFileOptions,
): Promise<number> {
  const workDir = await mkdtemp(join(tmpdir(), 'histeq-'));
  try {
    const shared = sharedLayout(workDir);
    await symlink(resolve(input), join(workDir, 'input'));
    const storage = storageFor(shared, 'cli', 'input', info);
    await mkdir(shared.abs(jobFiles(shared, 'cli').dir), { recursive: true });
    await storage.prepareSource(options.pool);
    const strips = storage.strips(options.tasks);
    const sources = strips.map((s) => absoluteRef(shared, s));
    const step = progress(options, 2 + 2 * sources.length);
    const kept = (i: number) => shared.abs(storage.decodedPart!(i));
    const lut = await globalLut(sources, info, options, step, kept);
    const outputs = await storage.prepareOutputs(strips);
    const dones = await Promise.all(
      sources.map(async (source, i) => {
        const pointer = outputs[i]!.path;
        const { sha256 } = await options.pool
          .equalize({
            source,
            mode: options.mode,
            lut,
            outPath: shared.abs(pointer),
            encoded: true,
            decoded: kept(i),
          })
          .finally(() => step('equalize'));
        return { pointer, checksum: sha256, pod: 'cli', attempt: 1, completedAt: '' };
      }),
    );
    await storage.finish(options.pool, dones, resolve(output));
    step('stitch');
    return sources.length;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Map and reduce: the histogram of every strip, summed into the LUT of the whole image. */
async function globalLut(
  sources: StripRef[],
  info: ImageInfo,
  options: EqualizeFileOptions,
  step: (phase: string) => void,
  keepDecoded?: (index: number) => string,
): Promise<Lut> {
  const histograms = await Promise.all(
    sources.map((ref, i) =>
      options.pool
        .histogram(ref, options.mode, undefined, keepDecoded?.(i))
        .finally(() => step('histogram')),
    ),
  );
  const { lut } = await options.pool.lut(histograms, info.layout, options.mode);
  step('reduce');
  return lut;
}

function progress(options: EqualizeFileOptions, total: number): (phase: string) => void {
  let done = 0;
  return (phase) => options.onProgress?.(++done, total, phase);
}
