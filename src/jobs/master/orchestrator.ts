import { backoffDelay } from '../../common/backoff.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventEmitter } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { relative } from 'node:path';
import { errorMessage, HisteqError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { ensureRoom } from '../../common/storage.js';
import type { TaskClaims, ZkSession } from '../../coordination/index.js';
import { checkClaheParams } from '../../imaging/clahe/grid.js';
import { probeImage } from '../../imaging/probe.js';
import type { ImagePool } from '../../pool/image-pool.js';
import { Admission, admissionOrder } from './admission.js';
import type { FaultInjector } from '../fault-injection.js';
import type { JobStore } from '../job-store.js';
import { JobRunner } from './job-runner.js';
import { displayName } from '../../common/display-name.js';
import { statusOf, viewOf } from '../job-view.js';
import type { ParamsWatcher } from '../mapreduce-params.js';
import { newJobId, type SharedLayout } from '../paths.js';
import { jobFiles } from '../job-files.js';
import { taskCountFor } from '../plan.js';
import type { TaskBoards } from '../shared-boards.js';
import { storageFor } from '../storage/job-storage.js';
import { startRetention } from './retention.js';
import { cancelJob, removeJob, retryJob, type JobActionsContext } from './job-actions.js';
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

export interface OrchestratorOptions {
  session: ZkSession;
  /** The pod's task boards, shared with its task loop. */
  boards: TaskBoards;
  store: JobStore;
  claims: TaskClaims;
  pool: ImagePool;
  shared: SharedLayout;
  params: ParamsWatcher;
  logger: Logger;
  pod: string;
  maxPixels: number;
  /** MAX_DECODED_BYTES: an image that must be decoded is refused past this many bytes. */
  maxDecodedBytes?: number;
  /** MAX_ACTIVE_JOBS: more unfinished jobs wait, `queued`, in order. Default 4. */
  maxActiveJobs?: number;
  /** RESULT_TTL_HOURS in ms; finished jobs older than this are pruned. Unset: kept forever. */
  resultTtlMs?: number;
  /** STORAGE_RESERVE_BYTES: free space kept beyond a job's own need. */
  storageReserveBytes?: number;
  taskTimeoutMs: number;
  /** Live pods that take tasks now (for the default task count). */
  taskPods: () => number;
  /** Null when the cluster may take jobs, else the sentence to refuse them with. */
  degraded: () => string | null;
  /** Test-only fault hooks (fault-injection.ts); inert by default. */
  faults?: FaultInjector;
}

interface OrchestratorEvents {
  job_status: [JobStatusEvent];
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
    const degraded = this.#o.degraded();
    if (degraded) throw new HisteqError('CLUSTER_DEGRADED', degraded);
    const { shared } = this.#o;
    const info = await probeImage(request.path, {
      page: request.options.page,
      maxPixels: this.#o.maxPixels,
      maxDecodedBytes: this.#o.maxDecodedBytes,
    });
    if (request.options.clahe) {
      checkClaheParams(request.options.clahe, info.layout, request.options.mode);
    }
    const id = newJobId();
    const upload = relative(shared.root, request.path);
    const storage = storageFor(shared, id, upload, info);
    // The upload is stored; what the job writes besides it depends on its storage.
    await ensureRoom(
      shared.root,
      storage.extraBytes,
      this.#o.storageReserveBytes ?? 0,
      'this image and its outputs',
    );
    const files = jobFiles(shared, id);
    await mkdir(shared.abs(files.dir), { recursive: true });
    let created = false;
    try {
      const now = new Date().toISOString();
      const tasks = this.#o.params.current.tasks_per_job ?? Math.max(1, this.#o.taskPods());
      const record: JobRecord = {
        id,
        state: 'queued',
        phase: 'queued',
        name: displayName(request.originalName),
        upload,
        info,
        options: request.options,
        tasks: taskCountFor(info, tasks),
        done: 0,
        createdAt: now,
        updatedAt: now,
        phaseStartedAt: { queued: now },
        phaseMs: {},
        attempts: [],
        masters: [this.#o.pod],
        ...(request.retryOf ? { retryOf: request.retryOf } : {}),
      };
      // The upload is answered once the job is recorded. Making its source readable (a full
      // decode when staged) is the runner's first step, under MAX_ACTIVE_JOBS: a small file
      // that decodes to a large image cannot make many decodes run at once, nor hold the
      // upload request; corrupt image data then fails the job with the decoder's sentence.
      await this.#o.store.create(record);
      created = true;
      this.#remember(record, `accepted; splitting into ${record.tasks} strips`);
      // This master is in the new record already, and the record is the one just written.
      this.#startRunner(id, signal, false, admissionOrder(record), record);
      return { id };
    } catch (err) {
      // A refused upload leaves nothing behind. If the record cannot be removed (leadership
      // lost meanwhile), whichever master runs it fails it with the reason and cleans up.
      const removed =
        !created ||
        (await this.#o.store.remove(id).then(
          () => true,
          () => false,
        ));
      if (removed) await rm(shared.abs(files.dir), { recursive: true, force: true });
      throw err;
    }
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

  #runnerDeps() {
    const o = this.#o;
    return {
      session: o.session,
      boards: o.boards,
      store: o.store,
      claims: o.claims,
      pool: o.pool,
      shared: o.shared,
      logger: o.logger,
      taskTimeoutMs: o.taskTimeoutMs,
      faults: o.faults,
      onUpdate: (record: JobRecord, msg: string) => this.#remember(record, msg),
    };
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
