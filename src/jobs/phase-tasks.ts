import { isZkError, type ZkOp, type ZkSession } from '../coordination/index.js';
import { hasRawPixels } from '../imaging/codec.js';
import type { PixelLayout } from '../imaging/types.js';
import type { StripRef } from '../pool/protocol.js';
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
    /** Raw TIFFs: the result, equalized in place by the tasks, renamed into results/ at the end. */
    container: `${dir}/result.tif`,
  };
}

/** The payloads of one phase's tasks: one per strip of the staged raw image. */
/**
 * The whole image's raw samples, relative to SHARED_DIR: a raw TIFF is read in place, anything
 * else from the raw file staging decoded.
 */
export function imageSource(shared: SharedLayout, job: JobRecord): StripRef {
  const { layout } = job.info;
  return hasRawPixels(job.info)
    ? { path: job.upload, offset: job.info.rawOffset, layout }
    : { path: jobFiles(shared, job.id).raw, offset: 0, layout };
}

export function phasePayloads(
  shared: SharedLayout,
  job: JobRecord,
  kind: TaskKind,
  containerPixelOffset?: number,
): TaskPayload[] {
  const files = jobFiles(shared, job.id);
  const layout: PixelLayout = job.info.layout;
  const image = imageSource(shared, job);
  const sources = stripRefs(image.path, layout, job.tasks, image.offset);
  const inPlace =
    kind === 'equalize' && containerPixelOffset !== undefined
      ? stripRefs(files.container, layout, job.tasks, containerPixelOffset)
      : undefined;
  return sources.map((ref, index) => ({
    kind,
    job: job.id,
    index,
    source: ref,
    mode: job.options.mode,
    ...(kind === 'histogram'
      ? { output: files.histogram(index) }
      : inPlace
        ? { output: files.container, outputOffset: inPlace[index].offset, lut: files.lut }
        : { output: files.strip(index), lut: files.lut }),
  }));
}

/**
 * Removes a finished phase's tasks, each in one multi-op with its children. Deleting bottom-up
 * would let a pod claim a task in the moment between its `done` going and the task going (and
 * run it for a finished job); with the task and its `done` removed together it cannot.
 */
export async function removePhaseTasks(session: ZkSession, folder: string): Promise<void> {
  let names: string[];
  try {
    names = await session.getChildren(folder);
  } catch (err) {
    if (isZkError(err, 'NO_NODE')) return;
    throw err;
  }
  for (const name of names) {
    const task = `${folder}/${name}`;
    for (let attempt = 1; ; attempt++) {
      try {
        const children = await session.getChildren(task);
        await session.commit([
          ...children.map((c): ZkOp => ({ op: 'remove', path: `${task}/${c}` })),
          { op: 'remove', path: task },
        ]);
        break;
      } catch (err) {
        if (isZkError(err, 'NO_NODE') && (await session.exists(task)) === null) break;
        // A lock created or dropped meanwhile: look again (bounded).
        if (!isZkError(err, 'NOT_EMPTY', 'NO_NODE') || attempt >= 5) throw err;
      }
    }
  }
  await session.removeTree(folder);
}

/** Ops that create a phase's task folder and tasks; they go into the same multi as the record. */
export function createTaskOps(
  shared: SharedLayout,
  job: JobRecord,
  kind: TaskKind,
  containerPixelOffset?: number,
): ZkOp[] {
  return [
    { op: 'create', path: tasksPath(job.id, kind), mode: 'persistent' },
    ...phasePayloads(shared, job, kind, containerPixelOffset).map((payload): ZkOp => ({
      op: 'create',
      path: taskPath(job.id, kind, payload.index),
      data: JSON.stringify({ ...payload, attempt: 0, history: [] }),
      mode: 'persistent',
    })),
  ];
}
