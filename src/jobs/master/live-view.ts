import { EventEmitter } from 'node:events';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { TaskClaims } from '../../coordination/index.js';
import type { JobStore } from '../job-store.js';
import { tasksPath, type TaskKind } from '../paths.js';
import type { BoardHandle, TaskBoards } from '../shared-boards.js';
import { ACTIVE_STATES, type JobAttemptsEvent, type JobsApi, type JobState } from '../types.js';
import { collectAttempts } from './attempts.js';

export interface LiveAttemptsDeps {
  /** The pod's task boards: the phase a job runs is already on them (task loop, waiter). */
  boards: TaskBoards;
  claims: TaskClaims;
  store: JobStore;
  logger: Logger;
  /** Board changes within this window are read once (default 300 ms). */
  settleMs?: number;
}

interface Followed {
  kind: TaskKind | null;
  handle: BoardHandle | null;
  timer: NodeJS.Timeout | null;
  reading: boolean;
  again: boolean;
  latest: JobAttemptsEvent | null;
}

const RUNNING_KIND: Partial<Record<JobState, TaskKind>> = {
  mapping: 'histogram',
  equalizing: 'equalize',
  stitching: 'assemble',
};

/**
 * The attempts of every running job, kept on the master and pushed as `job_attempts` events:
 * the master's own task board of the job's phase says when a task was claimed, released or
 * finished, and only then are the tasks read, once for every browser. A page therefore never
 * polls for its timeline (the record gets the attempts for good when the job ends).
 */
export class LiveAttempts extends EventEmitter<{ job_attempts: [JobAttemptsEvent] }> {
  readonly #d: LiveAttemptsDeps;
  readonly #jobs = new Map<string, Followed>();

  constructor(deps: LiveAttemptsDeps) {
    super();
    this.#d = deps;
  }

  /** A job's state changed (its job_status): follow the board of the phase it runs, if any. */
  track(id: string, state: JobState): void {
    if (!ACTIVE_STATES.includes(state)) {
      this.#forget(id);
      return;
    }
    let job = this.#jobs.get(id);
    if (!job) {
      job = { kind: null, handle: null, timer: null, reading: false, again: false, latest: null };
      this.#jobs.set(id, job);
    }
    const kind = RUNNING_KIND[state] ?? null;
    if (kind === job.kind) return;
    job.handle?.close();
    job.kind = kind;
    const followed = job;
    job.handle = kind
      ? this.#d.boards.open(tasksPath(id, kind), () => this.#schedule(id, followed))
      : null;
  }

  /** The last pushed attempts of a followed job, or null. */
  attemptsOf(id: string): JobAttemptsEvent | null {
    return this.#jobs.get(id)?.latest ?? null;
  }

  /** The last pushed attempts of every followed job, for a browser that connects late. */
  latest(): JobAttemptsEvent[] {
    return [...this.#jobs.values()].flatMap((j) => (j.latest ? [j.latest] : []));
  }

  /** Stops following every job (leadership lost, pod stopping). */
  close(): void {
    for (const id of [...this.#jobs.keys()]) this.#forget(id);
  }

  #forget(id: string): void {
    const job = this.#jobs.get(id);
    if (!job) return;
    job.handle?.close();
    if (job.timer) clearTimeout(job.timer);
    this.#jobs.delete(id);
  }

  #schedule(id: string, job: Followed): void {
    if (this.#jobs.get(id) !== job) return;
    if (job.reading) {
      job.again = true;
      return;
    }
    job.timer ??= setTimeout(() => {
      job.timer = null;
      void this.#read(id, job);
    }, this.#d.settleMs ?? 300);
  }

  async #read(id: string, job: Followed): Promise<void> {
    job.reading = true;
    try {
      const stored = await this.#d.store.read(id);
      if (!stored || this.#jobs.get(id) !== job) return;
      const attempts = await collectAttempts(this.#d.claims, stored.record);
      if (this.#jobs.get(id) !== job) return;
      if (JSON.stringify(attempts) === JSON.stringify(job.latest?.attempts)) return;
      job.latest = { id, attempts };
      this.emit('job_attempts', job.latest);
    } catch (err) {
      // Task znodes vanish as a phase ends; the next change or the final record tells.
      this.#d.logger.debug({ job: id, err: errorMessage(err) }, 'could not read live attempts');
    } finally {
      job.reading = false;
      if (job.again) {
        job.again = false;
        this.#schedule(id, job);
      }
    }
  }
}

/**
 * The job service as the web layer sees it, with one addition: `get` of a running job answers
 * with its live attempts (the record only gets them when the job ends), so a page that opens a
 * running job sees its timeline at once; later attempts arrive as `job_attempts` events.
 */
export function withLiveAttempts(
  jobs: JobsApi,
  sources: { live: LiveAttempts; store: JobStore; claims: TaskClaims },
): JobsApi {
  return {
    submit: (request) => jobs.submit(request),
    list: () => jobs.list(),
    latest: () => jobs.latest(),
    cancel: (id) => jobs.cancel(id),
    retry: (id, options) => jobs.retry(id, options),
    remove: (id) => jobs.remove(id),
    async get(id) {
      const view = await jobs.get(id);
      if (!view || !ACTIVE_STATES.includes(view.state)) return view;
      const live = sources.live.attemptsOf(id);
      if (live) return { ...view, attempts: live.attempts };
      try {
        const stored = await sources.store.read(id);
        if (!stored) return view;
        return { ...view, attempts: await collectAttempts(sources.claims, stored.record) };
      } catch {
        // Task znodes vanish as the job ends: the recorded view is the best answer then.
        return view;
      }
    },
  };
}
