import { HisteqError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { FailedRecord } from './claim-failure.js';
import { parseTaskNode } from './claim-records.js';
import { isAmbiguous, isZkError, unlessMissing } from './zk-errors.js';
import type { ZkSession } from './zk-session.js';
import { statLongToNumber } from './zk-stat.js';

/** One claim of a task, as kept in the lock node and in the task's history. */
export interface ClaimRecord {
  pod: string;
  attempt: number;
  claimedAt: string;
  /** Set when the claimer gave the task back cleanly (a draining pod). */
  released?: boolean;
}

/** Task spec JSON. This layer owns `attempt` and `history`; the rest belongs to the job code. */
export interface TaskSpec {
  attempt?: number;
  history?: ClaimRecord[];
  /** Claims given back cleanly: they do not count against the task. */
  released?: number;
  /** Times the master re-opened the finished task because its output failed a check: nor do these. */
  reruns?: number;
  [key: string]: unknown;
}

/** A claim we hold. `version` is the task's version after our claim: the fencing token. */
export interface Claim extends ClaimRecord {
  taskPath: string;
  lockPath: string;
  version: number;
  /** The session that holds the lock; no other session may commit the task. */
  sessionId: string;
  spec: TaskSpec;
}

/** What a finished task points at (its output lives in shared storage). */
export interface TaskResult {
  pointer: string;
  checksum: string;
  /** `worker_threads.threadId` of the pool thread that did the work, for the attempts table. */
  thread?: number;
  [key: string]: unknown;
}

export interface DoneRecord extends TaskResult {
  pod: string;
  attempt: number;
  completedAt: string;
}

/**
 * Why a claim was refused: the task is locked by another claim, finished (done or failed for
 * good), gone, or changed between its read and the claim.
 */
export type ClaimRefusal = 'locked' | 'done' | 'failed' | 'gone' | 'changed';

export interface TaskState {
  spec: TaskSpec;
  version: number;
  lock: (ClaimRecord & { ageMs: number }) | null;
  done: DoneRecord | null;
}

export interface TaskClaimsOptions {
  session: ZkSession;
  logger: Logger;
  /** This pod's name, recorded in locks and history. */
  pod: string;
  /** Claims kept in a task's history (oldest dropped); default 20. */
  historyLimit?: number;
}

/**
 * Task claims with an ephemeral `<task>/lock` and the task's version as fencing token: every
 * claim and every completion bumps the version in the same multi-op, so a claimer whose lock
 * was lost (session expiry, release, a master breaking a stale claim) can never commit.
 */
export class TaskClaims {
  readonly #session: ZkSession;
  readonly #log: Logger;
  readonly #pod: string;
  readonly #historyLimit: number;

  constructor(options: TaskClaimsOptions) {
    this.#session = options.session;
    this.#log = options.logger;
    this.#pod = options.pod;
    this.#historyLimit = options.historyLimit ?? 20;
  }

  /** Claims the task in one multi-op; null if it is taken, done, gone or changed meanwhile. */
  async claim(taskPath: string): Promise<Claim | null> {
    const attempt = await this.tryClaim(taskPath);
    return 'refused' in attempt ? null : attempt;
  }

  /** Like claim, with what stood in the way when the task could not be claimed. */
  async tryClaim(taskPath: string): Promise<Claim | { refused: ClaimRefusal }> {
    const session = this.#session;
    // The children are read after the version we fence on: done and failed are terminal
    // (nobody claims such a task again), and a lock means another claim holds it (the multi
    // would fail anyway). Both requests go out at once: ZooKeeper answers one session's
    // requests in the order it sent them, so the children still reflect a state at least as
    // new as the version read (one round trip instead of two).
    const both = await unlessMissing(
      Promise.all([session.getData(taskPath), session.getChildren(taskPath)]),
      null,
    );
    if (!both) return { refused: 'gone' };
    const [read, children] = both;
    for (const refused of ['done', 'failed', 'locked'] as const) {
      if (children.includes(refused === 'locked' ? 'lock' : refused)) return { refused };
    }
    const spec = parseTaskNode<TaskSpec>(read.data, taskPath, 'spec');
    const record: ClaimRecord = {
      pod: this.#pod,
      attempt: (spec.attempt ?? 0) + 1,
      claimedAt: new Date().toISOString(),
    };
    const next: TaskSpec = {
      ...spec,
      attempt: record.attempt,
      history: [...(spec.history ?? []), record].slice(-this.#historyLimit),
    };
    const lockPath = `${taskPath}/lock`;
    // Taken at the session we send with: a renewal meanwhile must not be mistaken for ours.
    const sessionId = session.sessionId;
    try {
      const results = await session
        .multi()
        .create(lockPath, JSON.stringify(record), 'ephemeral')
        .setData(taskPath, JSON.stringify(next), read.stat.version)
        .commit();
      const set = results[1];
      const version = set?.op === 'setData' ? set.stat.version : read.stat.version + 1;
      this.#log.debug({ task: taskPath, attempt: record.attempt }, 'task claimed');
      return { ...record, taskPath, lockPath, version, sessionId, spec: next };
    } catch (err) {
      if (isZkError(err, 'NODE_EXISTS')) return { refused: 'locked' };
      if (isZkError(err, 'BAD_VERSION')) return { refused: 'changed' };
      if (isZkError(err, 'NO_NODE')) return { refused: 'gone' };
      throw err;
    }
  }

  /**
   * Marks the task done in one multi-op: the task still at our claim's version (bumped again),
   * `done` created, our lock removed. Throws LOST_CLAIM if the claim is no longer ours.
   * Safe to repeat after an ambiguous failure (ZK_TIMEOUT): a repeat finds its own `done`.
   */
  async complete(claim: Claim, result: TaskResult): Promise<DoneRecord> {
    const done: DoneRecord = {
      ...result,
      pod: claim.pod,
      attempt: claim.attempt,
      completedAt: new Date().toISOString(),
    };
    if (claim.sessionId !== this.#session.sessionId) {
      const earlier = await this.#ownDone(claim);
      if (earlier) return earlier;
      throw lostClaim(claim, 'the session that claimed it has expired');
    }
    try {
      await this.#session
        .multi()
        .setData(claim.taskPath, JSON.stringify(claim.spec), claim.version)
        .create(`${claim.taskPath}/done`, JSON.stringify(done))
        .remove(claim.lockPath)
        .commit();
      return done;
    } catch (err) {
      if (isAmbiguous(err)) throw err;
      const earlier = await this.#ownDone(claim);
      if (earlier) return earlier;
      if (isZkError(err)) {
        const why = err.failedOp
          ? `${err.zkCode} at ${err.failedOp.op} ${err.failedOp.path}`
          : err.zkCode;
        throw lostClaim(claim, why, err);
      }
      throw err;
    }
  }

  /**
   * Gives the task back (a draining pod) if the claim is still ours; false if it was not. The
   * release is recorded (`released`, and in the history), so it does not use up an attempt:
   * pods shutting down in turn must not make a healthy task look poisoned.
   */
  async release(claim: Claim): Promise<boolean> {
    if (claim.sessionId !== this.#session.sessionId) return false;
    const spec: TaskSpec = {
      ...claim.spec,
      released: (claim.spec.released ?? 0) + 1,
      history: (claim.spec.history ?? []).map((h) =>
        h.attempt === claim.attempt && h.pod === claim.pod ? { ...h, released: true } : h,
      ),
    };
    try {
      await this.#session
        .multi()
        .setData(claim.taskPath, JSON.stringify(spec), claim.version)
        .remove(claim.lockPath)
        .commit();
      return true;
    } catch (err) {
      if (isZkError(err, 'BAD_VERSION', 'NO_NODE')) return false;
      throw err;
    }
  }

  /**
   * For the master: breaks a claim held longer than `olderThanMs` (by the ZooKeeper server's
   * clock, the lock's ctime), only if it is still the same claim. True if a lock was removed.
   */
  async releaseStale(taskPath: string, olderThanMs: number): Promise<boolean> {
    const session = this.#session;
    const lockPath = `${taskPath}/lock`;
    try {
      // Task first: any newer claim has bumped the version we check below.
      const task = await session.getData(taskPath);
      const lock = await session.getData(lockPath);
      const ageMs = Date.now() - statLongToNumber(lock.stat.ctime);
      if (ageMs < olderThanMs) return false;
      await session
        .multi()
        .check(taskPath, task.stat.version)
        .remove(lockPath, lock.stat.version)
        .commit();
      this.#log.warn(
        { task: taskPath, ageMs, lock: lock.data.toString('utf8') },
        'stale task claim broken',
      );
      return true;
    } catch (err) {
      if (isZkError(err, 'NO_NODE', 'BAD_VERSION')) return false;
      throw err;
    }
  }

  /** The task's spec, version, current lock and done record; null if the task is gone. */
  async read(taskPath: string): Promise<TaskState | null> {
    const session = this.#session;
    try {
      const task = await session.getData(taskPath);
      const [lock, done] = await Promise.all([
        unlessMissing(session.getData(`${taskPath}/lock`), null),
        unlessMissing(session.getData(`${taskPath}/done`), null),
      ]);
      return {
        spec: parseTaskNode<TaskSpec>(task.data, taskPath, 'spec'),
        version: task.stat.version,
        lock: lock && {
          ...parseTaskNode<ClaimRecord>(lock.data, `${taskPath}/lock`, 'lock'),
          ageMs: Date.now() - statLongToNumber(lock.stat.ctime),
        },
        done: done && parseTaskNode<DoneRecord>(done.data, `${taskPath}/done`, 'done'),
      };
    } catch (err) {
      if (isZkError(err, 'NO_NODE')) return null;
      throw err;
    }
  }

  /** A task's done record alone (one read); null while it has none or the task is gone. */
  async readDone(taskPath: string): Promise<DoneRecord | null> {
    const found = await unlessMissing(this.#session.getData(`${taskPath}/done`), null);
    return found && parseTaskNode<DoneRecord>(found.data, `${taskPath}/done`, 'done');
  }

  /** Why a task failed for good, from its `failed` child; null while it has none. */
  async readFailed(taskPath: string): Promise<FailedRecord | null> {
    const found = await unlessMissing(this.#session.getData(`${taskPath}/failed`), null);
    return found && parseTaskNode<FailedRecord>(found.data, `${taskPath}/failed`, 'failed');
  }

  async #ownDone(claim: Claim): Promise<DoneRecord | null> {
    const done = await this.readDone(claim.taskPath);
    return done?.pod === claim.pod && done.attempt === claim.attempt ? done : null;
  }
}

function lostClaim(claim: Claim, why: string, cause?: unknown): HisteqError {
  return new HisteqError(
    'LOST_CLAIM',
    `claim of ${claim.taskPath} (attempt ${claim.attempt} by ${claim.pod}) is no longer held: ${why}`,
    { cause },
  );
}
