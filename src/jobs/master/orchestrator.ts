import { setTimeout as sleep } from 'node:timers/promises';
import { EventEmitter } from 'node:events';
import { backoffDelay } from '../../common/backoff.js';
import { errorMessage, HisteqError } from '../../common/errors.js';
import { Admission, admissionOrder } from './admission.js';
import { JobRunner, type JobRunnerDeps } from './job-runner.js';
import { statusOf, viewOf } from '../job-view.js';
import { startRetention } from './retention.js';
import { cancelJob, removeJob, retryJob, type JobActionsContext } from './job-actions.js';
import type { OrchestratorOptions } from './orchestrator-options.js';
import { recordSubmission } from './submission.js';
import {
  ACTIVE_STATES,
  isFinished,
  type JobOptions,
  type JobRecord,
  type JobStatusEvent,
  type JobView,
  type SubmitRequest,
  type JobsApi,
} from '../types.js';

export type { OrchestratorOptions } from './orchestrator-options.js';

interface OrchestratorEvents {
  job_status: [JobStatusEvent];
  /** Retention removed a finished job: open pages drop it as they do a deleted one. */
  job_pruned: [id: string];
}

const RECENT_JOBS = 50;
const RUNNER_RETRIES = 5;

/**
 * The master's job service. While this pod leads it accepts uploads, runs one JobRunner per
 * unfinished job, and resumes every unfinished job it finds when it becomes master. It keeps
 * the records it has seen in memory for the API; ZooKeeper stays the source of truth.
 */
export class JobOrchestrator extends EventEmitter<OrchestratorEvents> implements JobsApi {
  readonly #o: OrchestratorOptions;
  readonly #records = new Map<string, JobRecord>();
  readonly #latest = new Map<string, JobStatusEvent>();
  readonly #runners = new Map<string, Promise<void>>();
  /** One per runner, so a cancel can stop one job without touching the others. */
  readonly #jobAborts = new Map<string, AbortController>();
  #abort: AbortController | null = null;
  /** The runners of the last deactivation settling: every caller of deactivate() waits for them. */
  #stopped: Promise<unknown> = Promise.resolve();
  readonly #admission: Admission;

  constructor(options: OrchestratorOptions) {
    super();
    this.#o = options;
    this.#admission = new Admission(options.maxActiveJobs ?? 4, (id, msg) => {
      const record = this.#records.get(id);
      if (record) this.#remember(record, msg);
    });
  }

  get active(): boolean {
    return this.#abort !== null;
  }

  /** Became master: load every job and resume the unfinished ones from their recorded state. */
  async activate(): Promise<void> {
    if (this.#abort) return;
    const abort = new AbortController();
    this.#abort = abort;
    const records = await this.#o.store.list();
    if (abort.signal.aborted) return;
    this.#records.clear();
    this.#latest.clear();
    for (const r of records.sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
      this.#remember(r, viewOf(r).msg);
    }
    for (const r of records) {
      // Finished jobs too: a cleanup cut short by the previous master's death is redone.
      const active = ACTIVE_STATES.includes(r.state);
      this.#startRunner(r.id, abort.signal, active, active ? admissionOrder(r) : null);
    }
    const { session, store, shared, logger, resultTtlMs: ttlMs } = this.#o;
    if (!ttlMs) return;
    const busy = (id: string) => this.#runners.has(id);
    const pruned = (id: string) => {
      this.#records.delete(id);
      this.#latest.delete(id);
      this.emit('job_pruned', id);
    };
    startRetention({ session, store, shared, logger, ttlMs, busy, pruned }, abort.signal);
  }

  /** Lost leadership: stop every runner now (their writes are fenced anyway). */
  async deactivate(): Promise<void> {
    const abort = this.#abort;
    if (abort) {
      this.#abort = null;
      abort.abort(new HisteqError('NOT_MASTER', 'leadership lost'));
      this.#stopped = Promise.allSettled([...this.#runners.values()]);
    }
    await this.#stopped;
  }

  async submit(request: SubmitRequest): Promise<{ id: string }> {
    const signal = this.#abort?.signal;
    if (!signal)
      throw new HisteqError('NOT_MASTER', 'This pod is no longer the master; please retry.');
    const record = await recordSubmission(this.#o, request, (r) => {
      this.#remember(r, `accepted; splitting into ${r.tasks} strips`);
      // This master is in the new record already, and the record is the one just written.
      this.#startRunner(r.id, signal, false, admissionOrder(r), r);
    });
    return { id: record.id };
  }

  async list(): Promise<JobView[]> {
    return [...this.#records.values()]
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .map((r) => this.#view(r));
  }

  async get(id: string): Promise<JobView | null> {
    const cached = this.#records.get(id);
    if (cached) return this.#view(cached);
    const stored = await this.#o.store.read(id);
    return stored ? viewOf(stored.record) : null;
  }

  /** Jobs known to this master by state (for metrics); empty on a worker. */
  stateCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    if (!this.active) return counts;
    for (const r of this.#records.values()) counts[r.state] = (counts[r.state] ?? 0) + 1;
    return counts;
  }

  latest(): JobStatusEvent[] {
    return [...this.#latest.values()];
  }

  async cancel(id: string): Promise<JobView> {
    return this.#view(await cancelJob(this.#actions(), id));
  }

  retry(id: string, options?: JobOptions): Promise<{ id: string }> {
    return retryJob(this.#actions(), id, options);
  }

  remove(id: string): Promise<void> {
    return removeJob(this.#actions(), id);
  }

  #actions(): JobActionsContext {
    const signal = this.#abort?.signal;
    if (!signal)
      throw new HisteqError('NOT_MASTER', 'This pod is no longer the master; please retry.');
    return {
      store: this.#o.store,
      shared: this.#o.shared,
      stopAndCleanUp: async (id) => {
        this.#jobAborts.get(id)?.abort(new HisteqError('CANCELLED', `job ${id} cancelled`));
        await this.#runners.get(id);
        if (signal.aborted) return;
        this.#startRunner(id, signal, false, null);
        await this.#runners.get(id);
      },
      remember: (record, msg) => this.#remember(record, msg),
      forget: (id) => {
        this.#records.delete(id);
        this.#latest.delete(id);
      },
      submit: (request) => this.submit(request),
    };
  }

  /** A waiting job's view says how many jobs are ahead of it. */
  #view(record: JobRecord): JobView {
    const view = viewOf(record);
    const waiting = record.state === 'queued' ? this.#admission.waitingMessage(record.id) : null;
    return waiting ? { ...view, msg: waiting } : view;
  }

  /**
   * `order` set: an unfinished job, run when MAX_ACTIVE_JOBS allows; null: a cleanup, now.
   * `start`: the record as this master just wrote it, spared a read by the first attempt.
   */
  #startRunner(
    id: string,
    master: AbortSignal,
    announce: boolean,
    order: string | null,
    start?: JobRecord,
  ): void {
    if (this.#runners.has(id)) return;
    const own = new AbortController();
    this.#jobAborts.set(id, own);
    const signal = AbortSignal.any([master, own.signal]);
    const log = this.#o.logger.child({ job: id });
    const run = async () => {
      if (announce)
        await this.#o.store.update(id, (r) => addMaster(r, this.#o.pod)).catch(() => {});
      for (let attempt = 1; ; attempt++) {
        try {
          await new JobRunner(
            this.#runnerDeps(),
            id,
            signal,
            attempt === 1 ? start : undefined,
          ).run();
          return;
        } catch (err) {
          if (signal.aborted) return;
          // A transient fault (ZooKeeper blip, I/O hiccup): retry with backoff, then give up.
          log.warn({ err: errorMessage(err), attempt }, 'job step failed');
          if (attempt >= RUNNER_RETRIES) {
            await this.#giveUp(id, errorMessage(err)).catch(() => {});
            // Failed jobs keep only their record: a run of a failed job is its cleanup.
            await new JobRunner(this.#runnerDeps(), id, signal).run().catch((e: unknown) => {
              log.warn({ err: errorMessage(e) }, 'could not clean up a failed job');
            });
            return;
          }
          // Abortable: a pod that stops (or is demoted) must not wait out a retry's backoff.
          await sleep(backoffDelay(attempt + 1, 250, 8_000), undefined, { signal }).catch(() => {});
        }
      }
    };
    const gated = async () => {
      if (order === null) return run();
      const admitted = this.#admission.admit(id, order, signal);
      // A job that waits its turn is read afresh when it starts: its record may have moved on.
      if (this.#admission.waitingMessage(id) !== null) start = undefined;
      if (!(await admitted)) return;
      try {
        await run();
      } finally {
        this.#admission.release(id);
      }
    };
    const promise = gated().finally(() => {
      this.#runners.delete(id);
      if (this.#jobAborts.get(id) === own) this.#jobAborts.delete(id);
    });
    this.#runners.set(id, promise);
  }

  async #giveUp(id: string, error: string): Promise<void> {
    const record = await this.#o.store.update(id, (r) =>
      isFinished(r.state)
        ? null
        : { ...r, state: 'failed', error: `The job could not continue: ${error}` },
    );
    this.#remember(record, record.error ?? 'failed');
  }

  #runnerDeps(): JobRunnerDeps {
    return { ...this.#o, onUpdate: (record, msg) => this.#remember(record, msg) };
  }

  #remember(record: JobRecord, msg: string): void {
    this.#records.set(record.id, record);
    const status = statusOf(record, msg);
    this.#latest.set(record.id, status);
    // Keep the late-joiner replay bounded to active and recent jobs.
    while (this.#latest.size > RECENT_JOBS) this.#latest.delete(this.#latest.keys().next().value!);
    this.emit('job_status', status);
  }
}

function addMaster(record: JobRecord, pod: string): JobRecord | null {
  if (record.masters.at(-1) === pod) return null;
  if (isFinished(record.state)) return null;
  return { ...record, masters: [...record.masters, pod] };
}
