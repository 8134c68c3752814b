import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { JobView } from '../src/jobs/types.js';
import { uploadAndWait, type BenchCluster } from './cluster.js';
import type { BenchImage } from './images.js';
import { summarize, type Summary } from './stats.js';

const exec = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const OPENCV_SCRIPT = fileURLToPath(new URL('../../bench/opencv_equalize.py', import.meta.url));

export interface JobFigures {
  /** Upload start → final job_status (s). */
  seconds: Summary;
  /** From the job records: the phases, and the result check (`check`, part of stitching). */
  phaseMs: Record<string, Summary>;
}

export interface SideBySideFigures extends JobFigures {
  image: string;
  megapixels: number;
  /**
   * The same jobs uploaded to the master pod itself: the path through a Kubernetes Service,
   * which forwards connections in the kernel, where the local front door proxies every byte
   * once more in user space.
   */
  direct: JobFigures;
  /** One OpenCV process on the same file: read → equalized → written, inside the process (s). */
  opencv: Summary;
  /** The same, the whole process: interpreter start-up and imports included (s). */
  opencvProcess: Summary;
  /** Cluster median ÷ OpenCV median (in-process time: the stricter comparison). */
  ratio: number;
  /** The cluster's result holds the same pixels as OpenCV's. */
  identical: boolean;
}

/** Collects the timings of jobs of one kind. */
class JobTimes {
  readonly #seconds: number[] = [];
  readonly #phases: Record<string, number[]> = {};

  add(seconds: number, job: JobView): void {
    this.#seconds.push(seconds);
    for (const [phase, ms] of Object.entries(job.phaseMs)) (this.#phases[phase] ??= []).push(ms);
    if (job.checkMs !== undefined) (this.#phases.check ??= []).push(job.checkMs);
  }

  figures(): JobFigures {
    const phases = Object.entries(this.#phases).map(([k, v]) => [k, summarize(v)]);
    return { seconds: summarize(this.#seconds), phaseMs: Object.fromEntries(phases) };
  }
}

async function timedJob(url: string, path: string, into: JobTimes) {
  const { job, seconds } = await uploadAndWait(url, path);
  into.add(seconds, job);
  return job;
}

/** Jobs of one file through a running cluster's front door, one after the other. */
export async function benchJobs(
  cluster: BenchCluster,
  path: string,
  runs: number,
): Promise<JobFigures> {
  const times = new JobTimes();
  for (let run = 0; run < runs; run++) await timedJob(cluster.url, path, times);
  return times.figures();
}

/**
 * The same file through the cluster (via the front door, and straight to the master) and
 * through one OpenCV process, alternating run by run so all see the same machine (on a shared
 * VM the load moves within seconds). The last OpenCV run also compares its pixels with the
 * cluster's last result.
 */
export async function benchSideBySide(
  cluster: BenchCluster,
  image: BenchImage,
  path: string,
  runs: number,
  scratchDir: string,
): Promise<SideBySideFigures> {
  const output = `${scratchDir}/opencv-${image.name}.tif`;
  const compression = image.tiff?.compression ?? 'none';
  const opencv: number[] = [];
  const opencvProcess: number[] = [];
  let identical = false;
  const viaFrontDoor = new JobTimes();
  const direct = new JobTimes();
  try {
    for (let run = 0; run < runs; run++) {
      await timedJob(await cluster.masterUrl(), path, direct);
      const job = await timedJob(cluster.url, path, viaFrontDoor);
      const args = [OPENCV_SCRIPT, path, output, compression];
      if (run === runs - 1 && job.url) {
        args.push('--compare', `${cluster.sharedDir}/results/${basename(job.url)}`);
      }
      const started = performance.now();
      const { stdout } = await exec(PYTHON, args);
      opencvProcess.push((performance.now() - started) / 1000);
      const answer = JSON.parse(stdout) as { seconds: number; identical?: boolean };
      opencv.push(answer.seconds);
      if (answer.identical !== undefined) identical = answer.identical;
    }
    const jobs = viaFrontDoor.figures();
    const opencvSummary = summarize(opencv);
    return {
      image: image.name,
      megapixels: (image.width * image.height) / 1e6,
      ...jobs,
      direct: direct.figures(),
      opencv: opencvSummary,
      opencvProcess: summarize(opencvProcess),
      ratio: jobs.seconds.median / opencvSummary.median,
      identical,
    };
  } finally {
    await rm(output, { force: true });
  }
}
