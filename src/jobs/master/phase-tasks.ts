import { isZkError, unlessMissing, type ZkOp, type ZkSession } from '../../coordination/index.js';
import type { StripRef } from '../../pool/protocol.js';
import { claheBandOf } from '../clahe-job.js';
import { jobFiles } from '../job-files.js';
import { storageFor, type StripOutput } from '../storage/job-storage.js';
import { tasksPath, taskPath, type SharedLayout, type TaskKind } from '../paths.js';
import type { TaskPayload } from '../task-spec.js';
import type { JobRecord } from '../types.js';

/** The kinds with one task per strip (a job has one assemble task, or none). */
type StripTaskKind = Exclude<TaskKind, 'assemble'>;

/**
 * The payloads of one phase's tasks: one per strip of the job's source. Equalize payloads need
 * `outputs`, where the storage strategy puts each strip (storage/job-storage.ts).
 */
export function phasePayloads(
  shared: SharedLayout,
  job: JobRecord,
  kind: StripTaskKind,
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

/** Above this many nodes a job's task folders are removed phase by phase, task by task. */
const ONE_TRANSACTION_NODES = 1000;

/**
 * Removes a finished job's task folders. Usually in one multi-op: each removal is a change every
 * pod's watches are told of and re-read for, so the two phases' tasks and folders going at
 * once cost each pod one round of reads instead of one per task and per folder. A job with
 * very many tasks, or one whose tasks changed meanwhile (the multi fails), goes the long way.
 */
export async function removeJobTasks(
  session: ZkSession,
  folders: readonly string[],
): Promise<void> {
  const ops = await removalOps(session, folders);
  if (ops) {
    try {
      if (ops.length > 0) await session.commit(ops);
      return;
    } catch (err) {
      if (!isZkError(err, 'NOT_EMPTY', 'NO_NODE')) throw err;
    }
  }
  for (const folder of folders) await removePhaseTasks(session, folder);
}

/** Bottom-up removal of `folders` as they are now; null when too large for one transaction. */
export async function removalOps(
  session: ZkSession,
  folders: readonly string[],
): Promise<ZkOp[] | null> {
  const listed = await Promise.all(
    folders.map(async (folder) => ({
      folder,
      names: await unlessMissing(session.getChildren(folder), null),
    })),
  );
  const present = listed.filter((f): f is { folder: string; names: string[] } => f.names !== null);
  const nodes = present.reduce((n, f) => n + f.names.length, 0);
  if (nodes > ONE_TRANSACTION_NODES) return null;
  const ops: ZkOp[] = [];
  for (const { folder, names } of present) {
    const tasks = await Promise.all(
      names.map(async (name) => {
        const path = `${folder}/${name}`;
        return { path, children: (await unlessMissing(session.getChildren(path), null)) ?? [] };
      }),
    );
    for (const { path, children } of tasks) {
      ops.push(...children.map((c): ZkOp => ({ op: 'remove', path: `${path}/${c}` })));
      ops.push({ op: 'remove', path });
    }
    ops.push({ op: 'remove', path: folder });
  }
  return ops;
}

/** Ops that create a phase's task folder and tasks; they go into the same multi as the record. */
export function createTaskOps(
  shared: SharedLayout,
  job: JobRecord,
  kind: StripTaskKind,
  outputs?: readonly StripOutput[],
): ZkOp[] {
  return [
    { op: 'create', path: tasksPath(job.id, kind), mode: 'persistent' },
    ...phasePayloads(shared, job, kind, outputs).map((p) => taskCreateOp(p)),
  ];
}

/**
 * Ops that create a job's one assemble task (and its folder), doing `work` on the whole page.
 * `attemptsBefore`: attempts of an earlier assemble task of the job (removed when strips were
 * re-run); the new one's are numbered on from there and do not count against its limit.
 */
export function assembleTaskOps(
  job: JobRecord,
  source: StripRef,
  work: Pick<TaskPayload, 'assembly' | 'output'>,
  attemptsBefore = 0,
): ZkOp[] {
  const payload: TaskPayload = {
    kind: 'assemble',
    job: job.id,
    index: 0,
    source,
    mode: job.options.mode,
    ...work,
  };
  const claims = attemptsBefore > 0 ? { attempt: attemptsBefore, reruns: attemptsBefore } : {};
  return [
    { op: 'create', path: tasksPath(job.id, 'assemble'), mode: 'persistent' },
    taskCreateOp(payload, claims),
  ];
}

function taskCreateOp(
  payload: TaskPayload,
  claims: { attempt?: number; reruns?: number } = {},
): ZkOp {
  return {
    op: 'create',
    path: taskPath(payload.job, payload.kind, payload.index),
    data: JSON.stringify({ ...payload, attempt: 0, history: [], ...claims }),
    mode: 'persistent',
  };
}
