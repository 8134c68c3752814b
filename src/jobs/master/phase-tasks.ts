import { isZkError, unlessMissing, type ZkOp, type ZkSession } from '../../coordination/index.js';
import type { StripRef } from '../../pool/protocol.js';
import { claheBandOf } from '../clahe-job.js';
import { jobFiles } from '../job-files.js';
import { storageFor, type StripOutput } from '../storage/job-storage.js';
import { tasksPath, taskPath, type SharedLayout, type TaskKind } from '../paths.js';
import type { TaskPayload } from '../task-spec.js';
import type { JobRecord } from '../types.js';

/**
 * The payloads of one phase's tasks: one per strip of the job's source. Equalize payloads need
 * `outputs`, where the storage strategy puts each strip (storage/job-storage.ts).
 */
export function phasePayloads(
  shared: SharedLayout,
  job: JobRecord,
  kind: TaskKind,
  outputs?: readonly StripOutput[],
): TaskPayload[] {
  const files = jobFiles(shared, job.id);
  const storage = storageFor(shared, job.id, job.upload, job.info);
  return storage.strips(job.tasks).map((ref, index) => {
    const decoded = storage.decodedPart?.(index);
    const base = {
      kind,
      job: job.id,
      index,
      source: ref,
      mode: job.options.mode,
      ...claheBandOf(job, index),
      ...(decoded ? { decoded } : {}),
    };
    if (kind === 'histogram') {
      const preview = storage.previewPart?.(index);
      return { ...base, output: files.histogram(index), ...(preview ? { preview } : {}) };
    }
    const out = outputs?.[index];
    if (!out) throw new Error(`no output planned for equalize task ${index} of job ${job.id}`);
    return {
      ...base,
      output: out.path,
      ...(out.offset !== undefined ? { outputOffset: out.offset } : {}),
      ...(out.encoded ? { encoded: true } : {}),
      lut: files.lut,
    };
  });
}

/** The job's strips as references into its source (relative to SHARED_DIR). */
export function jobStrips(shared: SharedLayout, job: JobRecord): StripRef[] {
  return storageFor(shared, job.id, job.upload, job.info).strips(job.tasks);
}

/**
 * Removes a finished phase's tasks, each in one multi-op with its children. Deleting bottom-up
 * would let a pod claim a task in the moment between its `done` going and the task going (and
 * run it for a finished job); with the task and its `done` removed together it cannot.
 */
export async function removePhaseTasks(session: ZkSession, folder: string): Promise<void> {
  const names = await unlessMissing(session.getChildren(folder), null);
  if (!names) return;
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
  outputs?: readonly StripOutput[],
): ZkOp[] {
  return [
    { op: 'create', path: tasksPath(job.id, kind), mode: 'persistent' },
    ...phasePayloads(shared, job, kind, outputs).map((payload): ZkOp => ({
      op: 'create',
      path: taskPath(job.id, kind, payload.index),
      data: JSON.stringify({ ...payload, attempt: 0, history: [] }),
      mode: 'persistent',
    })),
  ];
}
