import { randomUUID } from 'node:crypto';
import { link, copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HisteqError } from '../../common/errors.js';
import { isZkError } from '../../coordination/index.js';
import type { JobStore } from '../job-store.js';
import type { SharedLayout } from '../paths.js';
import {
  isFinished,
  type JobOptions,
  type JobPhase,
  type JobRecord,
  type SubmitRequest,
} from '../types.js';
import { removeJobFiles } from './retention.js';

/** What the actions need from the orchestrator that runs the jobs. */
export interface JobActionsContext {
  store: JobStore;
  shared: SharedLayout;
  /** Stops the job's runner, waits for it, and runs the job's cleanup (tasks, work files). */
  stopAndCleanUp(id: string): Promise<void>;
  remember(record: JobRecord, msg: string): void;
  forget(id: string): void;
  submit(request: SubmitRequest): Promise<{ id: string }>;
}

const MAX_REMOVE_RETRIES = 5;

/**
 * Cancels an unfinished job. The new state is written to the job's record first, in one
 * fenced write, so the cancel holds whatever happens next: a master that takes over finds a
 * `cancelled` record and only cleans up. The cleanup itself runs after the answer.
 */
export async function cancelJob(ctx: JobActionsContext, id: string): Promise<JobRecord> {
  let finished: string | null = null;
  const record = await ctx.store.update(id, (r) => {
    finished = isFinished(r.state) ? r.state : null;
    return finished ? null : markCancelled(r);
  });
  if (finished) {
    throw new HisteqError(
      'CONFLICT',
      `Job ${id} has already ended (${finished}); only a queued or running job can be cancelled.`,
    );
  }
  ctx.remember(record, 'cancelled');
  void ctx.stopAndCleanUp(id).catch(() => {});
  return record;
}

function markCancelled(r: JobRecord): JobRecord {
  const now = new Date();
  const started = r.phaseStartedAt[r.state];
  const phaseMs = { ...r.phaseMs };
  if (started) phaseMs[r.state as JobPhase] = now.getTime() - Date.parse(started);
  return {
    ...r,
    state: 'cancelled',
    done: 0,
    phaseMs,
    phaseStartedAt: { ...r.phaseStartedAt, cancelled: now.toISOString() },
  };
}

/**
 * Runs a finished job again as a new job, from the same upload. The upload gets a second name
 * (a hard link, a copy where links are not possible), so either job can be removed, or pruned,
 * without taking the other's input with it.
 */
export async function retryJob(
  ctx: JobActionsContext,
  id: string,
  options?: JobOptions,
): Promise<{ id: string }> {
  const current = await ctx.store.read(id);
  if (!current) throw new HisteqError('NOT_FOUND', `There is no job with id ${id}.`);
  const job = current.record;
  if (!isFinished(job.state)) {
    throw new HisteqError(
      'CONFLICT',
      `Job ${id} is still running (${job.state}); cancel it first or wait until it ends.`,
    );
  }
  await mkdir(ctx.shared.uploads, { recursive: true });
  const copy = join(ctx.shared.uploads, `${randomUUID()}.upload`);
  try {
    await link(ctx.shared.abs(job.upload), copy).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw uploadGone(id);
      await copyFile(ctx.shared.abs(job.upload), copy);
    });
    return await ctx.submit({
      path: copy,
      originalName: job.name,
      options: options ?? job.options,
      retryOf: id,
    });
  } catch (err) {
    await rm(copy, { force: true });
    throw err;
  }
}

function uploadGone(id: string): HisteqError {
  return new HisteqError(
    'CONFLICT',
    `The upload of job ${id} is no longer stored; upload the image again to run it.`,
  );
}

/**
 * Removes a job and everything it stored. A running job is cancelled first; its files go
 * before its record, so an interrupted removal leaves a record that can be removed again.
 */
export async function removeJob(ctx: JobActionsContext, id: string): Promise<void> {
  const current = await ctx.store.read(id);
  if (!current) throw new HisteqError('NOT_FOUND', `There is no job with id ${id}.`);
  if (!isFinished(current.record.state)) {
    await cancelJob(ctx, id).catch((err: unknown) => {
      // It ended by itself meanwhile: remove it as it is.
      if (!(err instanceof HisteqError && err.code === 'CONFLICT')) throw err;
    });
  }
  await ctx.stopAndCleanUp(id);
  for (let attempt = 1; ; attempt++) {
    const latest = await ctx.store.read(id);
    if (!latest) break;
    await removeJobFiles(ctx.shared, latest.record);
    try {
      await ctx.store.removeFinished(id, latest.version);
      break;
    } catch (err) {
      if (!isZkError(err, 'BAD_VERSION', 'NO_NODE') || attempt >= MAX_REMOVE_RETRIES) throw err;
    }
  }
  ctx.forget(id);
}
