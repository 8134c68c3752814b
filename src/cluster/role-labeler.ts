import { backoffDelay } from '../common/backoff.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, HisteqError } from '../common/errors.js';
import type { Logger } from '../common/log.js';

/**
 * Makes "who is master" visible outside ZooKeeper: the `role=master` pod label that
 * `master-service` selects in Kubernetes, or the local registry file the front door reads.
 * The election decides; the labeler only publishes the decision.
 *
 * Every method is idempotent. `becomeMaster()` resolves once this pod is published as the
 * master and no other pod is; it retries transient failures a bounded number of times and then
 * rejects with a typed `HisteqError`, so the caller decides whether to keep the role.
 */
export interface RoleLabeler {
  becomeMaster(): Promise<void>;
  /** Unpublishes this pod (only this pod: never clears a newer master's mark). */
  stepDown(): Promise<void>;
  /** Best-effort stepDown if this pod is published as master, then refuses further calls. */
  close(): Promise<void>;
}

export interface RetryOptions {
  /** Total tries including the first (default 4). */
  attempts?: number;
  /** First delay; doubles each try, with jitter (default 200 ms). */
  baseDelayMs?: number;
  /** Cap on one delay (default 2000 ms), so the worst case stays a few seconds. */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = {
  attempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 2000,
};

export interface BoundedRetryContext {
  logger: Logger;
  /** What is being attempted, for the log line: e.g. "label pod web-1 role=master". */
  what: string;
  retry?: RetryOptions;
  /** Errors for which retrying cannot help (RBAC, bad input); they are rethrown at once. */
  isPermanent: (err: unknown) => boolean;
  /** Stops retrying early when the caller no longer wants the result (e.g. stepDown came in). */
  shouldContinue?: () => boolean;
}

/**
 * Runs `fn` with bounded exponential backoff. Every failed try logs one warn line naming the
 * operation and the attempt, so an operator sees a flapping API server instead of silence.
 * Throws the last error when attempts run out (the caller wraps it in a typed error).
 */
export async function withBoundedRetry<T>(
  fn: () => Promise<T>,
  ctx: BoundedRetryContext,
): Promise<T> {
  const retry = { ...DEFAULT_RETRY, ...ctx.retry };
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (ctx.isPermanent(err) || attempt >= retry.attempts) throw err;
      if (ctx.shouldContinue && !ctx.shouldContinue()) throw err;
      const delay = backoffDelay(attempt, retry.baseDelayMs, retry.maxDelayMs);
      const jittered = Math.round(delay * (0.75 + Math.random() * 0.5));
      ctx.logger.warn(
        { attempt, attempts: retry.attempts, retryInMs: jittered, err: errorMessage(err) },
        `${ctx.what} failed, retrying`,
      );
      await sleep(jittered);
    }
  }
}

/**
 * Serialises labeler operations so a stepDown issued while becomeMaster is still retrying runs
 * after it (last intent wins), and remembers the latest intent so the retry loop can give up.
 */
export class IntentQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private generation = 0;

  /** Queues `op`; `current()` passed to it turns false once a newer intent is queued. */
  run<T>(op: (current: () => boolean) => Promise<T>): Promise<T> {
    const mine = ++this.generation;
    const current = (): boolean => this.generation === mine;
    const result = this.tail.then(() => op(current));
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when everything queued so far has settled. */
  async drain(): Promise<void> {
    await this.tail;
  }
}

/**
 * What both labelers share: operations run one at a time through an IntentQueue (last intent
 * wins), refused after close(), and close() steps down if this pod still carries the role.
 * Subclasses say how to publish and how to withdraw the role.
 */
export abstract class SerialRoleLabeler implements RoleLabeler {
  protected readonly queue = new IntentQueue();
  /** Whether this pod may currently carry the role (set by subclasses). */
  protected published = false;
  #closed = false;

  protected constructor(protected readonly logger: Logger) {}

  /** Publishes this pod as master; `current()` turns false once a newer intent is queued. */
  protected abstract publish(current: () => boolean): Promise<void>;
  /** Withdraws this pod's role (only its own). */
  protected abstract unpublish(): Promise<void>;

  becomeMaster(): Promise<void> {
    this.#assertOpen();
    return this.queue.run((current) => this.publish(current));
  }

  stepDown(): Promise<void> {
    this.#assertOpen();
    return this.queue.run(() => this.unpublish());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.queue.drain();
    if (!this.published) return;
    try {
      await this.unpublish();
    } catch (err) {
      // Shutting down anyway; the next master clears a role left behind.
      this.logger.warn(
        { err: errorMessage(err) },
        'could not withdraw the master role while closing',
      );
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new HisteqError('INTERNAL', 'role labeler is closed');
  }
}
