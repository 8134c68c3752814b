import type { DoneRecord, TaskClaims } from '../../coordination/index.js';
import { taskPath, type TaskKind } from '../paths.js';
import type { JobRecord } from '../types.js';

/** The done records of every task of a phase, in task order; throws if one has none. */
export function doneRecords(
  claims: TaskClaims,
  job: JobRecord,
  kind: TaskKind,
): Promise<DoneRecord[]> {
  return Promise.all(Array.from({ length: job.tasks }, (_, i) => doneRecord(claims, job, kind, i)));
}

export async function doneRecord(
  claims: TaskClaims,
  job: JobRecord,
  kind: TaskKind,
  index: number,
): Promise<DoneRecord> {
  const done = await claims.readDone(taskPath(job.id, kind, index));
  if (!done) throw new Error(`${kind} task ${index} of job ${job.id} has no result`);
  return done;
}

/** Why a task failed for good, as its `failed` node says (a sentence for the job's error). */
export async function failureReason(
  claims: TaskClaims,
  id: string,
  kind: TaskKind,
  index: number,
): Promise<string> {
  const failed = await claims.readFailed(taskPath(id, kind, index)).catch(() => null);
  return failed ? `${failed.reason} (after ${failed.attempt} attempts)` : 'unknown error';
}
