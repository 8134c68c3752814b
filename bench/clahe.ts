import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { startBenchCluster, uploadAndWait, type ClusterFigures } from './cluster.js';
import { summarize, type Summary } from './stats.js';

const exec = promisify(execFile);

/**
 * Debian's OpenCV on one machine, the reference CLAHE runs are set against, with OpenCV's default
 * threading (every core: cv2.getNumThreads() is printed). It does what a job does to the file:
 * read it, apply CLAHE, write it uncompressed as the job's result is, timed from the start of the
 * read to the end of the write, and apply alone; with a third argument, whether that file (the
 * cluster's result) holds the same pixels.
 */
const OPENCV_CLAHE = `
import json, sys, time, cv2, numpy as np
t0 = time.perf_counter()
img = cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED)
clahe = cv2.createCLAHE(clipLimit=40.0, tileGridSize=(8, 8))
t1 = time.perf_counter()
out = clahe.apply(img)
t2 = time.perf_counter()
if not cv2.imwrite(sys.argv[2], out, [cv2.IMWRITE_TIFF_COMPRESSION, 1]):
    raise SystemExit('could not write ' + sys.argv[2])
t3 = time.perf_counter()
result = {'seconds': t3 - t0, 'apply': t2 - t1, 'threads': cv2.getNumThreads()}
if len(sys.argv) > 3:
    other = cv2.imread(sys.argv[3], cv2.IMREAD_UNCHANGED)
    result['identical'] = other is not None and bool(np.array_equal(other, out))
print(json.dumps(result))
`;

const CLAHE_FIELDS = { method: 'clahe', clip_limit: '40', tiles: '8x8' };

type JobFigures = Pick<ClusterFigures, 'pods' | 'image' | 'tasks' | 'seconds' | 'phaseMs'>;

export interface ClaheFigures {
  /** One OpenCV process: read → createCLAHE(40, (8, 8)).apply → written, inside the process (s). */
  opencvSeconds: Summary;
  /** Of that, apply alone on the decoded image (s). */
  opencvApplySeconds: Summary;
  /** OpenCV's worker threads (cv2.getNumThreads(): every core by default). */
  opencvThreads: number;
  /** The cluster's last CLAHE result holds the same pixels as OpenCV's. */
  identical: boolean;
  /** CLAHE jobs through the pods, upload → result. */
  cluster: JobFigures;
  /** Global equalization of the same file through the same pods, in the same rounds. */
  global: JobFigures;
  /** Median CLAHE job over median OpenCV read → apply → write. */
  ratio: number;
  /** Median CLAHE job over median OpenCV apply alone (the stricter comparison). */
  applyRatio: number;
}

/**
 * CLAHE 8×8 (clip 40) of one image side by side: one OpenCV process (read, apply, write; apply
 * also timed alone), a CLAHE job and a global job through one local cluster of `pods` pods,
 * upload → result, in rounds of one each so all three see the same machine. One untimed job of
 * each method first, so the figures are of warm pods (a fresh pod compiles its kernels on first
 * use). The last round compares OpenCV's pixels with the cluster's result.
 */
export async function benchClahe(
  imagePath: string,
  pods: number,
  runs: number,
  scratchDir: string,
): Promise<ClaheFigures> {
  const cluster = await startBenchCluster(pods);
  const output = `${scratchDir}/opencv-clahe-${basename(imagePath)}`;
  try {
    await uploadAndWait(cluster.url, imagePath, CLAHE_FIELDS);
    await uploadAndWait(cluster.url, imagePath);
    const opencv: OpencvAnswer[] = [];
    const jobs = { clahe: new Rounds(), global: new Rounds() };
    for (let run = 0; run < runs; run++) {
      const clahe = await uploadAndWait(cluster.url, imagePath, CLAHE_FIELDS);
      jobs.clahe.add(clahe);
      const args = ['-c', OPENCV_CLAHE, imagePath, output];
      if (run === runs - 1 && clahe.job.url) {
        args.push(`${cluster.sharedDir}/results/${basename(clahe.job.url)}`);
      }
      const { stdout } = await exec('/usr/bin/python3', args);
      opencv.push(JSON.parse(stdout) as OpencvAnswer);
      jobs.global.add(await uploadAndWait(cluster.url, imagePath));
      const last = opencv.at(-1)!;
      console.log(
        `  round ${run + 1}: OpenCV read → apply → write ${last.seconds.toFixed(2)} s (apply ` +
          `${last.apply.toFixed(2)} s, ${last.threads} threads), CLAHE job ` +
          `${jobs.clahe.seconds.at(-1)!.toFixed(2)} s, global job ${jobs.global.seconds.at(-1)!.toFixed(2)} s`,
      );
    }
    const opencvSeconds = summarize(opencv.map((o) => o.seconds));
    const opencvApplySeconds = summarize(opencv.map((o) => o.apply));
    const identical = opencv.at(-1)?.identical === true;
    const figures = (r: Rounds) => r.figures(pods, basename(imagePath));
    const clahe = figures(jobs.clahe);
    const global = figures(jobs.global);
    const phases = (f: JobFigures) =>
      Object.entries(f.phaseMs)
        .map(([phase, ms]) => `${phase} ${ms.median}`)
        .join(', ');
    const ratio = clahe.seconds.median / opencvSeconds.median;
    const applyRatio = clahe.seconds.median / opencvApplySeconds.median;
    console.log(
      `  CLAHE job / OpenCV read → apply → write: ${ratio.toFixed(2)}×, / apply alone: ` +
        `${applyRatio.toFixed(2)}×; global job ${global.seconds.median.toFixed(2)} s; pixels ` +
        `${identical ? 'identical' : 'DIFFERENT'}\n` +
        `  CLAHE phases (ms, median): ${phases(clahe)}\n  global phases (ms, median): ${phases(global)}`,
    );
    return {
      opencvSeconds,
      opencvApplySeconds,
      opencvThreads: opencv[0]?.threads ?? 0,
      identical,
      cluster: clahe,
      global,
      ratio,
      applyRatio,
    };
  } finally {
    await cluster.close();
    await rm(output, { force: true });
  }
}

/** What one OpenCV run prints (OPENCV_CLAHE). */
interface OpencvAnswer {
  seconds: number;
  apply: number;
  threads: number;
  identical?: boolean;
}

/** One method's jobs: times and phases from the job records. */
class Rounds {
  readonly seconds: number[] = [];
  readonly #phases: Record<string, number[]> = {};

  add({ job, seconds }: Awaited<ReturnType<typeof uploadAndWait>>): void {
    this.seconds.push(seconds);
    for (const [phase, ms] of Object.entries(job.phaseMs)) (this.#phases[phase] ??= []).push(ms);
    if (job.checkMs !== undefined) (this.#phases.check ??= []).push(job.checkMs);
  }

  figures(pods: number, image: string): JobFigures {
    const phaseMs = Object.entries(this.#phases).map(([k, v]) => [k, summarize(v)] as const);
    return {
      pods,
      image,
      tasks: pods,
      seconds: summarize(this.seconds),
      phaseMs: Object.fromEntries(phaseMs),
    };
  }
}
