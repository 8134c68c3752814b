import type { JobStore } from '../job-store.js';
import type { JobPhase, JobRecord } from '../types.js';

/**
 * Records a phase's progress in the job's record. Writes go one at a time and those that
 * arrive meanwhile collapse into one of the latest count: concurrent version-checked writes of
 * one record would only make each other retry. A state change waits for them (`settled`), for
 * the same reason.
 */
export class ProgressWriter {
  readonly #store: JobStore;
  readonly #onUpdate: (record: JobRecord, msg: string) => void;
  /** Progress waiting to be written (only the latest count matters), and the write chain. */
  #due: { phase: JobPhase; done: number } | null = null;
  #writes: Promise<void> = Promise.resolve();

  constructor(store: JobStore, onUpdate: (record: JobRecord, msg: string) => void) {
    this.#store = store;
    this.#onUpdate = onUpdate;
  }

  /** Resolves once every write asked for so far has ended (failed ones included). */
  settled(): Promise<void> {
    return this.#writes;
  }

  record(id: string, phase: JobPhase, done: number): Promise<void> {
    const queued = this.#due !== null;
    this.#due = { phase, done };
    if (queued) return this.#writes;
    const write = this.#writes.then(() => this.#write(id));
    this.#writes = write.catch(() => {});
    return write;
  }

  async #write(id: string): Promise<void> {
    const due = this.#due;
    this.#due = null;
    if (!due) return;
    const { phase, done } = due;
    let changed = false;
    const record = await this.#store.update(id, (r) => {
      if (r.state !== phase || r.done >= done) return null;
      changed = true;
      return { ...r, done };
    });
    if (changed) this.#onUpdate(record, `${done}/${record.tasks} ${phase} tasks done`);
  }
}
