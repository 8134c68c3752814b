import type { Claim, TaskSpec } from './claims.js';
import { isZkError } from './zk-errors.js';
import type { ZkSession } from './zk-session.js';

/** What `<task>/failed` holds once a task has failed for good. */
export interface FailedRecord {
  reason: string;
  pod: string;
  attempt: number;
  failedAt: string;
}

/**
 * Gives a task back after it failed on this pod, in one fenced multi-op: the error goes into
 * the task's spec (so the next attempt and the job's timeline can see it) and our lock is
 * removed. With `final`, a `failed` child is created too: a terminal state that no pod claims
 * again and that fails the job. Returns false if the claim was no longer ours.
 */
export async function failClaim(
  session: ZkSession,
  claim: Claim,
  reason: string,
  final: boolean,
): Promise<boolean> {
  if (claim.sessionId !== session.sessionId) return false;
  const spec: TaskSpec = { ...claim.spec, lastError: reason.slice(0, 500) };
  const multi = session.multi().setData(claim.taskPath, JSON.stringify(spec), claim.version);
  if (final) {
    const record: FailedRecord = {
      reason: reason.slice(0, 500),
      pod: claim.pod,
      attempt: claim.attempt,
      failedAt: new Date().toISOString(),
    };
    multi.create(`${claim.taskPath}/failed`, JSON.stringify(record));
  }
  try {
    await multi.remove(claim.lockPath).commit();
    return true;
  } catch (err) {
    if (isZkError(err, 'BAD_VERSION', 'NO_NODE', 'NODE_EXISTS')) return false;
    throw err;
  }
}
