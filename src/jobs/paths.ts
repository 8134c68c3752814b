import { randomBytes } from 'node:crypto';
import { join, resolve, sep } from 'node:path';
import type { ImageFormat } from '../imaging/image-info.js';

/** ZooKeeper layout (docs/architecture.md). */
export const JOBS_PATH = '/jobs';
export const PARAMS_PATH = '/config/mapreduce_params';

/**
 * `assemble`: one task per chunked-TIFF job that writes the result's directory and copies the
 * equalized bands' bytes, so the master's work per job stays the same whatever the image size.
 */
export type TaskKind = 'histogram' | 'equalize' | 'assemble';
export const TASK_KINDS: readonly TaskKind[] = ['histogram', 'equalize', 'assemble'];
const FOLDER: Record<TaskKind, string> = {
  histogram: 'histograms',
  equalize: 'equalize',
  assemble: 'assemble',
};

export const jobPath = (id: string) => `${JOBS_PATH}/${id}`;
export const tasksPath = (id: string, kind: TaskKind) => `${jobPath(id)}/${FOLDER[kind]}`;
export const taskName = (index: number) => `task_${index}`;
export const taskPath = (id: string, kind: TaskKind, index: number) =>
  `${tasksPath(id, kind)}/${taskName(index)}`;

const TASK_NAME = /^task_(\d+)$/;
export function taskIndex(name: string): number | null {
  const m = TASK_NAME.exec(name);
  return m ? Number(m[1]) : null;
}

/** Job ids sort by creation time and are safe as file names: `<time base36>-<random hex>`. */
export function newJobId(now = Date.now()): string {
  return `${now.toString(36)}-${randomBytes(4).toString('hex')}`;
}
export const JOB_ID = /^[a-z0-9]{6,12}-[0-9a-f]{8}$/;

export const EXTENSION: Record<ImageFormat, string> = { tiff: 'tif', png: 'png', jpeg: 'jpg' };

/**
 * Shared storage (docs/architecture.md, Storage strategies). Specs and records keep paths relative to SHARED_DIR, so pods that
 * mount it elsewhere still agree; `abs` resolves one and refuses anything that escapes.
 */
export function sharedLayout(sharedDir: string) {
  const root = resolve(sharedDir);
  return {
    root,
    uploads: join(root, 'uploads'),
    results: join(root, 'results'),
    workRel: (id: string) => `work/${id}`,
    resultName: (id: string, format: ImageFormat) => `${id}.${EXTENSION[format]}`,
    abs(relative: string): string {
      const path = resolve(root, relative);
      if (path !== root && !path.startsWith(root + sep)) {
        throw new Error(`path ${relative} escapes SHARED_DIR`);
      }
      return path;
    },
  };
}
export type SharedLayout = ReturnType<typeof sharedLayout>;
