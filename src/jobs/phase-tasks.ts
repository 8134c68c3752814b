import type { ZkOp } from '../coordination/index.js';
import type { PixelLayout } from '../imaging/types.js';
import { stripRefs } from './plan.js';
import { tasksPath, taskPath, type SharedLayout, type TaskKind } from './paths.js';
import type { TaskPayload } from './task-spec.js';
import type { JobRecord } from './types.js';

/** Work files of a job, relative to SHARED_DIR. */
export function jobFiles(shared: SharedLayout, id: string) {
  const dir = shared.workRel(id);
  return {
    dir,
    raw: `${dir}/source.raw`,
    lut: `${dir}/lut.bin`,
    histogram: (i: number) => `${dir}/hist_${i}.bin`,
    strip: (i: number) => `${dir}/strip_${i}.raw`,
  };
}

/** The payloads of one phase's tasks: one per strip of the staged raw image. */
export function phasePayloads(shared: SharedLayout, job: JobRecord, kind: TaskKind): TaskPayload[] {
  const files = jobFiles(shared, job.id);
  const layout: PixelLayout = job.info.layout;
  return stripRefs(files.raw, layout, job.tasks).map((ref, index) => ({
    kind,
    job: job.id,
    index,
    source: ref,
    mode: job.options.mode,
    output: kind === 'histogram' ? files.histogram(index) : files.strip(index),
    ...(kind === 'equalize' ? { lut: files.lut } : {}),
  }));
}

/** Ops that create a phase's task folder and tasks; they go into the same multi as the record. */
export function createTaskOps(shared: SharedLayout, job: JobRecord, kind: TaskKind): ZkOp[] {
  return [
    { op: 'create', path: tasksPath(job.id, kind), mode: 'persistent' },
    ...phasePayloads(shared, job, kind).map((payload): ZkOp => ({
      op: 'create',
      path: taskPath(job.id, kind, payload.index),
      data: JSON.stringify({ ...payload, attempt: 0, history: [] }),
      mode: 'persistent',
    })),
  ];
}
