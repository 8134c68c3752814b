import { Backoff } from '../common/backoff.js';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { RoleLabeler } from '../cluster/role-labeler.js';

export interface MasterLabelOptions {
  labeler: RoleLabeler;
  /** True while this pod holds the leadership; the label is wanted exactly then. */
  isLeader: () => boolean;
  logger: Logger;
  /** First delay between removal retries (default 1000 ms); doubles up to maxRetryDelayMs. */
  minRetryDelayMs?: number;
  /** Cap on the delay between removal retries (default 30 000 ms). */
  maxRetryDelayMs?: number;
}

/**
 * Knows whether this pod may carry the role=master label, and keeps removing it while the pod
 * does not lead. Readiness reads `mayCarry`, so a pod that cannot prove it lost the label (the
 * API server is unreachable, RBAC forbids the patch) is taken out of master-service by its
 * failing readiness probe instead of serving as a stale master.
 */
export class MasterLabel {
  // A restarted container inherits its pod object's labels, so assume the worst until removed.
  #mayCarry = true;
  #retryTimer: NodeJS.Timeout | null = null;
  readonly #backoff: Backoff;
  #closed = false;

  constructor(private readonly options: MasterLabelOptions) {
    this.#backoff = new Backoff(options.minRetryDelayMs ?? 1000, options.maxRetryDelayMs ?? 30_000);
  }

  get mayCarry(): boolean {
    return this.#mayCarry;
  }

  /** Publishes this pod as master; rejects like `RoleLabeler.becomeMaster()`. */
  async publish(): Promise<void> {
    this.#cancelRetry();
    this.#mayCarry = true; // before the call: a failed or cut-off patch may still have landed
    await this.options.labeler.becomeMaster();
  }

  /**
   * Removes the label unless this pod leads (again). Never rejects: a failure is logged and
   * retried with backoff until it succeeds, the pod is elected again, or close().
   */
  async remove(): Promise<void> {
    if (this.#closed || this.options.isLeader()) return;
    try {
      await this.options.labeler.stepDown();
      // Elected meanwhile: publish() queued behind this stepDown and the label is wanted.
      if (!this.options.isLeader()) this.#mayCarry = false;
      this.#backoff.reset();
    } catch (err) {
      if (this.#closed || this.#retryTimer) return;
      const delay = this.#backoff.next();
      this.options.logger.warn(
        { err: errorMessage(err), retryInMs: delay },
        'could not remove role=master from this pod; not ready until it is removed',
      );
      this.#scheduleRetry(delay);
    }
  }

  /** Stops retrying; the labeler's own close() makes the last attempt. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#cancelRetry();
  }

  #scheduleRetry(delay: number): void {
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.remove();
    }, delay);
    // A pending retry must not keep a stopping process alive.
    this.#retryTimer.unref();
  }

  #cancelRetry(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }
}
