/**
 * Exponential backoff, written once: every retry loop (ZooKeeper renewals and watches, role
 * labels, pod restarts, the job runner) doubles its delay from `baseMs` up to `maxMs` and starts
 * again from `baseMs` after a success.
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  #nextMs: number;

  constructor(baseMs: number, maxMs: number) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
    this.#nextMs = baseMs;
  }

  /** The delay to wait now; the one after it is twice as long (up to the maximum). */
  next(): number {
    const delay = this.#nextMs;
    this.#nextMs = Math.min(delay * 2, this.#maxMs);
    return delay;
  }

  reset(): void {
    this.#nextMs = this.#baseMs;
  }
}

/** The delay before retry `attempt` (1-based): `baseMs · 2^(attempt−1)`, at most `maxMs`. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** (attempt - 1));
}
