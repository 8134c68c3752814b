interface Waiter {
  id: string;
  order: string;
  admit: (admitted: boolean) => void;
}

/**
 * MAX_ACTIVE_JOBS: at most `limit` jobs run at once on the master; the rest wait, visibly, in
 * `order` (jobs already past `queued` first, then by creation time), and start as others end.
 * Only memory: the waiting jobs are `queued` records in ZooKeeper, so a new master rebuilds the
 * same queue from them at activation.
 */
export class Admission {
  readonly #limit: number;
  readonly #running = new Set<string>();
  #waiting: Waiter[] = [];
  readonly #onWaiting: (id: string, message: string) => void;

  constructor(limit: number, onWaiting: (id: string, message: string) => void) {
    this.#limit = Math.max(1, limit);
    this.#onWaiting = onWaiting;
  }

  /** Resolves true when the job may run (call `release` when it ends), false if aborted first. */
  admit(id: string, order: string, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.#running.size < this.#limit && this.#waiting.length === 0) {
      this.#running.add(id);
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = { id, order, admit: resolve };
      const onAbort = () => {
        this.#waiting = this.#waiting.filter((w) => w !== waiter);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiter.admit = (admitted) => {
        signal.removeEventListener('abort', onAbort);
        resolve(admitted);
      };
      this.#waiting.push(waiter);
      this.#waiting.sort((a, b) => a.order.localeCompare(b.order));
      this.#announce();
    });
  }

  release(id: string): void {
    if (!this.#running.delete(id)) return;
    while (this.#running.size < this.#limit && this.#waiting.length > 0) {
      const next = this.#waiting.shift()!;
      this.#running.add(next.id);
      next.admit(true);
    }
    this.#announce();
  }

  /** The sentence for a waiting job, or null when it is not waiting. */
  waitingMessage(id: string): string | null {
    const index = this.#waiting.findIndex((w) => w.id === id);
    return index < 0 ? null : waitingMessage(index + 1);
  }

  #announce(): void {
    this.#waiting.forEach((w, index) => this.#onWaiting(w.id, waitingMessage(index + 1)));
  }
}

/** `ahead`: the jobs that must start before this one (it needs one running job to end first). */
function waitingMessage(ahead: number): string {
  return `waiting: ${ahead} job${ahead === 1 ? '' : 's'} ahead`;
}

/** Queue order: jobs already under way resume first, then queued ones by creation time. */
export function admissionOrder(record: { state: string; createdAt: string; id: string }): string {
  return `${record.state === 'queued' ? 1 : 0}|${record.createdAt}|${record.id}`;
}
