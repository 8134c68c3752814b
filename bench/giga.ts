import { execFile } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inboxSubmitAndWait, scrapeAll, startBenchCluster, uploadAndWait } from './cluster.js';
import { ensureImage, type BenchImage } from './images.js';
import { metricValue } from './prometheus.js';

const exec = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const OPENCV_SCRIPT = fileURLToPath(new URL('../../bench/opencv_equalize.py', import.meta.url));
const CPU_METRIC = 'histeq_process_process_cpu_seconds_total';
/** A gigapixel job on a loaded 2-core VM takes minutes; the bench waits this long at most. */
const JOB_TIMEOUT_SECONDS = 1800;

/** 8-bit LZW with the predictor, as the 64 MP side-by-side image: 64 MP, 400 MP, 1 gigapixel. */
export const GIGA_IMAGES: BenchImage[] = [
  [8000, 8000, '64mp'],
  [20000, 20000, '400mp'],
  [32000, 31250, '1gp'],
].map(([width, height, size]) => ({
  name: `grey8-${size}-lzw`,
  width: width as number,
  height: height as number,
  channels: 1,
  depth: 8,
  tiff: { compression: 'lzw', predictor: 'horizontal' },
}));

export interface GigaFigures {
  image: string;
  megapixels: number;
  fileMb: number;
  /** Upload start → result ready through 5 pods with the default settings (s). */
  seconds: number;
  /** One OpenCV process on the same file, read → equalized → written (s). */
  opencvSeconds: number;
  /** The result holds the same pixels as the single process's. */
  identical: boolean;
  /** Peak RSS of each pod after this one job on a fresh cluster (MB), master first. */
  peakRssMb: number[];
  /** CPU seconds each pod spent on the job, master first. */
  cpuSeconds: number[];
}

/**
 * Each image through a fresh 5-pod cluster with the default settings (so a pod's peak RSS is
 * this job's), then through one OpenCV process with --compare. A fresh cluster per image keeps
 * the peaks apart: the metric is the process's peak since it started.
 */
export async function benchGiga(dir: string, scratch: string): Promise<GigaFigures[]> {
  const figures: GigaFigures[] = [];
  for (const image of GIGA_IMAGES) {
    const path = await ensureImage(dir, image);
    const cluster = await startBenchCluster(5);
    let seconds: number;
    let resultPath: string;
    let before: Awaited<ReturnType<typeof scrapeAll>>;
    let after: Awaited<ReturnType<typeof scrapeAll>>;
    try {
      before = await scrapeAll(cluster.url);
      const done = await uploadAndWait(cluster.url, path, undefined, JOB_TIMEOUT_SECONDS);
      seconds = done.seconds;
      after = await scrapeAll(cluster.url);
      resultPath = `${scratch}/giga-${image.name}.tif`;
      await rm(resultPath, { force: true });
      await exec('cp', [`${cluster.sharedDir}/results/${basename(done.job.url!)}`, resultPath]);
    } finally {
      await cluster.close();
    }
    const pods = [...after.metrics.keys()].sort((a, b) =>
      a === after.master ? -1 : b === after.master ? 1 : a.localeCompare(b),
    );
    const value = (text: string | undefined, name: string) => metricValue(text ?? '', name) ?? NaN;
    const output = `${scratch}/giga-opencv-${image.name}.tif`;
    try {
      const { stdout } = await exec(
        PYTHON,
        [OPENCV_SCRIPT, path, output, 'lzw', '--compare', resultPath],
        { maxBuffer: 1 << 20 },
      );
      const answer = JSON.parse(stdout) as { seconds: number; identical: boolean };
      figures.push({
        image: image.name,
        megapixels: (image.width * image.height) / 1e6,
        fileMb: (await stat(path)).size / 1e6,
        seconds,
        opencvSeconds: answer.seconds,
        identical: answer.identical,
        peakRssMb: pods.map((p) => value(after.metrics.get(p), 'histeq_peak_rss_bytes') / 2 ** 20),
        cpuSeconds: pods.map(
          (p) => value(after.metrics.get(p), CPU_METRIC) - value(before.metrics.get(p), CPU_METRIC),
        ),
      });
    } finally {
      await rm(output, { force: true });
      await rm(resultPath, { force: true });
    }
  }
  return figures;
}

export interface MasterCpuFigures {
  image: string;
  /** The master's CPU seconds for a job sent by POST /upload (multipart, through the front door). */
  cpuSeconds: number;
  /** Upload start → result ready for that job (s). */
  seconds: number;
  /** The same for a job submitted by POST /api/jobs {"path"} from the inbox (no bytes sent). */
  inboxCpuSeconds: number;
  inboxSeconds: number;
  /** The master's CPU per second with no job running (its periodic work), measured after. */
  idleCpuPerSecond: number;
}

/** How long the master is watched with no job, for its periodic work. */
const IDLE_SECONDS = 10;

/**
 * The master's own CPU per job (MASTER_TAKES_TASKS=false, so it does only what a master does:
 * receive or link the file, probe, plan, reduce, check, assemble, previews, events) for each
 * image but the largest, on one 5-pod cluster, each after one warm-up job: the same within 2×
 * is the target, since it handles metadata only. Measured both for an upload and for an inbox
 * submission, which sends no bytes, and with the master's idle CPU rate, so that a reader can
 * tell the upload, the job and the periodic work apart.
 */
export async function benchMasterCpu(dir: string): Promise<MasterCpuFigures[]> {
  const cluster = await startBenchCluster(5, undefined, { MASTER_TAKES_TASKS: 'false' });
  const out: MasterCpuFigures[] = [];
  const masterCpu = async () => {
    const s = await scrapeAll(cluster.url);
    return metricValue(s.metrics.get(s.master!) ?? '', CPU_METRIC) ?? NaN;
  };
  const measured = async (job: () => Promise<{ seconds: number }>) => {
    const before = await masterCpu();
    const { seconds } = await job();
    return { cpu: (await masterCpu()) - before, seconds };
  };
  try {
    for (const image of GIGA_IMAGES.slice(0, 2)) {
      const path = await ensureImage(dir, image);
      const send = () => uploadAndWait(cluster.url, path, undefined, JOB_TIMEOUT_SECONDS);
      const link = () => inboxSubmitAndWait(cluster, path, JOB_TIMEOUT_SECONDS);
      await send(); // warm-up
      const uploaded = await measured(send);
      const inbox = await measured(link);
      const idleBefore = await masterCpu();
      await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
      out.push({
        image: image.name,
        cpuSeconds: uploaded.cpu,
        seconds: uploaded.seconds,
        inboxCpuSeconds: inbox.cpu,
        inboxSeconds: inbox.seconds,
        idleCpuPerSecond: ((await masterCpu()) - idleBefore) / IDLE_SECONDS,
      });
    }
  } finally {
    await cluster.close();
  }
  return out;
}
