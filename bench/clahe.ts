import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { benchCluster, type ClusterFigures } from './cluster.js';
import { repeat, type Summary } from './stats.js';

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

export interface ClaheFigures {
  /** OpenCV's createCLAHE(40, (8, 8)).apply on the decoded image, in one process (s). */
  opencvApplySeconds: Summary;
  cluster: ClusterFigures;
}

/**
 * CLAHE 8×8 (clip 40) of one image side by side: OpenCV's apply in one process (decoding not
 * timed), and upload → result through a local cluster of `pods` pods.
 */
export async function benchClahe(
  imagePath: string,
  pods: number,
  runs: number,
): Promise<ClaheFigures> {
  const opencvApplySeconds = await repeat(runs, async () => {
    const { stdout } = await exec('/usr/bin/python3', ['-c', OPENCV_CLAHE, imagePath]);
    return Number(stdout.trim());
  });
  const cluster = await benchCluster(pods, imagePath, runs, undefined, {
    method: 'clahe',
    clip_limit: '40',
    tiles: '8x8',
  });
  return { opencvApplySeconds, cluster };
}
