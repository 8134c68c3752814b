import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { startBenchCluster, uploadAndWait, type ClusterFigures } from './cluster.js';
import { summarize, type Summary } from './stats.js';

const exec = promisify(execFile);

/** Debian's OpenCV on one machine, the reference CLAHE runs are set against. */
const OPENCV_CLAHE = `
import sys, time, cv2
img = cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED)
clahe = cv2.createCLAHE(clipLimit=40.0, tileGridSize=(8, 8))
t = time.perf_counter()
out = clahe.apply(img)
print(time.perf_counter() - t)
`;

const CLAHE_FIELDS = { method: 'clahe', clip_limit: '40', tiles: '8x8' };

type JobFigures = Pick<ClusterFigures, 'pods' | 'image' | 'tasks' | 'seconds' | 'phaseMs'>;

export interface ClaheFigures {
  /** OpenCV's createCLAHE(40, (8, 8)).apply on the decoded image, in one process (s). */
  opencvApplySeconds: Summary;
  /** CLAHE jobs through the pods, upload → result. */
  cluster: JobFigures;
  /** Global equalization of the same file through the same pods, in the same rounds. */
  global: JobFigures;
  /** Median CLAHE job over median OpenCV apply. */
  ratio: number;
}

/**
 * CLAHE 8×8 (clip 40) of one image side by side: OpenCV's apply in one process (decoding not
 * timed), a CLAHE job and a global job through one local cluster of `pods` pods, upload →
 * result, in rounds of one each so all three see the same machine. One untimed job of each
 * method first, so the figures are of warm pods (a fresh pod compiles its kernels on first use).
 */
export async function benchClahe(
  imagePath: string,
  pods: number,
  runs: number,
): Promise<ClaheFigures> {
  const cluster = await startBenchCluster(pods);
  try {
    await uploadAndWait(cluster.url, imagePath, CLAHE_FIELDS);
    await uploadAndWait(cluster.url, imagePath);
    const opencv: number[] = [];
    const jobs = { clahe: new Rounds(), global: new Rounds() };
    for (let run = 0; run < runs; run++) {
      const { stdout } = await exec('/usr/bin/python3', ['-c', OPENCV_CLAHE, imagePath]);
      opencv.push(Number(stdout.trim()));
      jobs.clahe.add(await uploadAndWait(cluster.url, imagePath, CLAHE_FIELDS));
      jobs.global.add(await uploadAndWait(cluster.url, imagePath));
      console.log(
        `  round ${run + 1}: OpenCV apply ${opencv.at(-1)!.toFixed(2)} s, CLAHE job ` +
          `${jobs.clahe.seconds.at(-1)!.toFixed(2)} s, global job ${jobs.global.seconds.at(-1)!.toFixed(2)} s`,
      );
    }
    const opencvApplySeconds = summarize(opencv);
    const figures = (r: Rounds) => r.figures(pods, basename(imagePath));
    const clahe = figures(jobs.clahe);
    const global = figures(jobs.global);
    const phases = (f: JobFigures) =>
      Object.entries(f.phaseMs)
        .map(([phase, ms]) => `${phase} ${ms.median}`)
        .join(', ');
    const ratio = clahe.seconds.median / opencvApplySeconds.median;
    console.log(
      `  CLAHE job / OpenCV apply: ${ratio.toFixed(2)}×; global job ${global.seconds.median.toFixed(2)} s\n` +
        `  CLAHE phases (ms, median): ${phases(clahe)}\n  global phases (ms, median): ${phases(global)}`,
    );
    return {
      opencvApplySeconds,
      cluster: clahe,
      global,
      ratio,
    };
  } finally {
    await cluster.close();
  }
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
