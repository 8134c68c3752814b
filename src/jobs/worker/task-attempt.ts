import { errorCode, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { failClaim } from '../../coordination/claim-failure.js';
import type { Claim, TaskClaims, ZkSession } from '../../coordination/index.js';
import type { FaultInjector } from '../fault-injection.js';
import type { TaskKind } from '../paths.js';
import { parsePayload, pixelsOf } from '../task-spec.js';
import type { TaskExecutor } from './task-executor.js';

/** One task as the task loop picked it. */
export interface Candidate {
  job: string;
  kind: TaskKind;
  index: number;
  path: string;
}

export type AttemptOutcome = 'done' | 'failed' | 'lost';

/** What one attempt needs from the pod's task loop. */
export interface AttemptContext {
  session: ZkSession;
  claims: TaskClaims;
  executor: TaskExecutor;
  logger: Logger;
  /** A task failing this many times fails for good (poison input). */
  maxAttempts: number;
  faults?: FaultInjector;
  /** Aborted when the task's phase goes (cancelled, deleted, or finished elsewhere). */
  stop: AbortSignal;
  /** The attempt ended (for metrics). */
  report(kind: TaskKind, outcome: AttemptOutcome, seconds: number, pixels: number): void;
  /** The attempt failed here: let other pods take the retry first. */
  failedHere(): void;
  /** A claim could not be given back: our lock may be left behind. */
  lockLeft(): void;
}

/** Runs one claimed task to its commit, or gives the claim back with the reason it failed. */
export async function runAttempt(c: AttemptContext, task: Candidate, claim: Claim): Promise<void> {
  const log = c.logger.child({
    job: task.job,
    task: `${task.kind}/${task.index}`,
    attempt: claim.attempt,
  });
  const started = performance.now();
  // Claims given back cleanly (a draining pod) are not the task's fault: they do not count.
  // Nor do re-runs the master asked for after a failed check of the task's output.
  const counted = claim.attempt - (claim.spec.released ?? 0) - (claim.spec.reruns ?? 0);
  if (counted > c.maxAttempts) {
    const reason = `the ${task.kind} task ${task.index} was started ${counted - 1} times and never finished (its pods died or it kept failing)`;
    await failClaim(c.session, claim, reason, true).catch((err: unknown) =>
      log.warn({ err: errorMessage(err) }, 'could not mark task failed'),
    );
    log.error({ reason }, 'task abandoned');
    return;
  }
  log.info('task started');
  try {
    await c.faults?.beforeTask(task.kind, task.index, claim.attempt);
    const payload = parsePayload(claim.spec);
    const result = await c.executor.run(payload, claim.attempt, c.stop);
    c.faults?.afterOutput(task.kind, task.index, claim.attempt);
    await c.claims.complete(claim, result);
    const ms = performance.now() - started;
    log.info({ ms: Math.round(ms) }, 'task done');
    c.report(task.kind, 'done', ms / 1000, pixelsOf(payload));
  } catch (err) {
    // Its phase's tasks went (the job was cancelled or deleted, or finished without this
    // attempt: its claim was broken and the task done elsewhere): stopped between chunks.
    if (c.stop.aborted) {
      const ms = Math.round(performance.now() - started);
      log.info({ ms }, 'task stopped: its tasks were removed (job cancelled, deleted or finished)');
      // Its znodes went with the job; should they still exist, the claim goes back cleanly.
      await c.claims.release(claim).catch(() => false);
      return;
    }
    const message = errorMessage(err);
    const final = counted >= c.maxAttempts;
    const outcome = errorCode(err) === 'LOST_CLAIM' ? 'lost' : 'failed';
    c.report(task.kind, outcome, (performance.now() - started) / 1000, 0);
    c.failedHere();
    log.warn(
      { err: message, final },
      final ? 'task failed for good' : 'task failed; released for a retry',
    );
    await failClaim(c.session, claim, message, final).catch((e: unknown) => {
      log.warn({ err: errorMessage(e) }, 'could not release task');
      c.lockLeft();
    });
  }
}
