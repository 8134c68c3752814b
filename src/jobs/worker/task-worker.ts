import { EventEmitter } from 'node:events';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type {
  Claim,
  ClaimRefusal,
  StopWatching,
  TaskClaims,
  ZkSession,
  ZkSessionState,
} from '../../coordination/index.js';
import type { FaultInjector } from '../fault-injection.js';
import { JOBS_PATH, TASK_KINDS, tasksPath, type TaskKind } from '../paths.js';
import type { BoardHandle, TaskBoards } from '../shared-boards.js';
import type { TaskExecutor } from './task-executor.js';
import { releaseOrphanLocks } from './orphan-locks.js';
import { runAttempt, type AttemptOutcome, type Candidate } from './task-attempt.js';

export interface TaskWorkerOptions {
  session: ZkSession;
  /** The pod's task boards, shared with the master's phase waiter. */
  boards: TaskBoards;
  claims: TaskClaims;
  executor: TaskExecutor;
  logger: Logger;
  /** Tasks run at once (the pool's threads). */
  concurrency: number;
  /** A task failing this many times fails for good (poison input). */
  maxAttempts: number;
  /** Test-only fault hooks (fault-injection.ts); inert by default. */
  faults?: FaultInjector;
}

export interface TaskWorkerEvents {
  /** The tasks this pod runs now changed (for the cluster view). */
  busy: [tasks: string[]];
  /** A task attempt ended on this pod (for metrics). */
  task: [kind: TaskKind, outcome: AttemptOutcome, seconds: number, pixels: number];
}

const RETRY_ELSEWHERE_MS = 1500;
const PUMP_RETRY_MS = 500;

/**
 * Every pod's task loop: watches `/jobs`, keeps a TaskBoard per active job phase (its folder
 * alone, see BoardFollow), and claims free tasks up to its concurrency. Pods start from a random free task, so five pods racing
 * for one job's tasks mostly pick different ones. Nothing polls: boards wake the loop.
 */
export class TaskWorker extends EventEmitter<TaskWorkerEvents> {
  readonly #o: TaskWorkerOptions;
  readonly #boards = new Map<string, BoardHandle>(); // key: <job>/<kind>
  readonly #jobWatches = new Map<string, StopWatching>();
  readonly #running = new Map<string, Claim>(); // key: task path
  readonly #stops = new Map<string, AbortController>(); // key: task path; aborted on cancel
  readonly #tried = new Set<string>(); // claims lost in this round; cleared on any change
  // Tasks that failed here recently: other pods get the first go at the retry.
  readonly #failedHere = new Map<string, number>();
  readonly #claiming = new Set<string>(); // claims in flight: not orphans
  #reapTimer: NodeJS.Timeout | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #stopJobs: StopWatching = () => {};
  #paused = false;
  #draining = false;
  #pumping = false;
  #again = false;

  constructor(options: TaskWorkerOptions) {
    super();
    this.#o = options;
  }

  // Back from an outage with the same session: requests in flight when it began may have
  // left locks of ours behind (see orphan-locks.ts).
  readonly #onState = (state: ZkSessionState, previous: ZkSessionState): void => {
    if (state === 'connected' && previous === 'suspended') this.#scheduleReap();
  };

  start(): void {
    this.#stopJobs = this.#o.session.watchChildren(JOBS_PATH, (ids) => this.#onJobs(ids ?? []));
    this.#o.session.on('state', this.#onState);
  }

  /** The master may keep its threads for itself (MASTER_TAKES_TASKS=false). */
  setPaused(paused: boolean): void {
    this.#paused = paused;
    if (!paused) this.#pump();
  }

  get runningTasks(): string[] {
    return [...this.#running.keys()].map((p) => p.replace(`${JOBS_PATH}/`, ''));
  }

  /**
   * Stops claiming; lets running tasks finish for up to `graceMs`, then gives back the claims
   * still held so other pods take them at once (rather than after our session times out).
   */
  async drain(graceMs: number): Promise<void> {
    this.#draining = true;
    const deadline = Date.now() + graceMs;
    while (this.#running.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(
      [...this.#running.values()].map((claim) => this.#o.claims.release(claim).catch(() => false)),
    );
    this.close();
  }

  close(): void {
    this.#draining = true;
    if (this.#reapTimer) clearTimeout(this.#reapTimer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#stopJobs();
    this.#o.session.off('state', this.#onState);
    for (const stop of this.#jobWatches.values()) stop();
    for (const board of this.#boards.values()) board.close();
    this.#jobWatches.clear();
    this.#boards.clear();
  }

  #onJobs(ids: string[]): void {
    const present = new Set(ids);
    for (const [id, stop] of this.#jobWatches) {
      if (!present.has(id)) {
        stop();
        this.#jobWatches.delete(id);
        for (const kind of TASK_KINDS) this.#closeBoard(id, kind);
      }
    }
    for (const id of present) {
      if (this.#jobWatches.has(id)) continue;
      // One children watch per job: finished jobs have no task folders, so cost nothing more.
      const stop = this.#o.session.watchChildren(`${JOBS_PATH}/${id}`, (children) => {
        for (const kind of TASK_KINDS) {
          const folder = tasksPath(id, kind).split('/').pop() as string;
          if (children?.includes(folder)) this.#openBoard(id, kind);
          else this.#closeBoard(id, kind);
        }
      });
      this.#jobWatches.set(id, stop);
    }
  }

  #openBoard(job: string, kind: TaskKind): void {
    const key = `${job}/${kind}`;
    if (this.#boards.has(key)) return;
    // The folder alone: what each task's children hold, our claim attempts find out.
    const handle = this.#o.boards.open(
      tasksPath(job, kind),
      () => {
        this.#tried.clear();
        this.#pump();
      },
      'folder',
    );
    this.#boards.set(key, handle);
  }

  #closeBoard(job: string, kind: TaskKind): void {
    const key = `${job}/${kind}`;
    this.#boards.get(key)?.close();
    this.#boards.delete(key);
    // The phase's tasks are gone (the job was cancelled or removed): stop ours between chunks.
    const folder = `${tasksPath(job, kind)}/`;
    for (const [path, stop] of this.#stops) if (path.startsWith(folder)) stop.abort();
  }

  /** Claims free tasks until full; re-runs itself if woken while running. */
  #pump(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    void this.#fill()
      .catch((err: unknown) => {
        this.#o.logger.warn({ err: errorMessage(err) }, 'task loop error');
        this.#scheduleReap();
        // Nothing may change on the boards after a failed claim (ZooKeeper was away and came
        // back with the same session): look again soon rather than wait for a change.
        if (!this.#retryTimer && !this.#draining) {
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = null;
            this.#pump();
          }, PUMP_RETRY_MS);
          this.#retryTimer.unref();
        }
      })
      .finally(() => {
        this.#pumping = false;
        if (this.#again) {
          this.#again = false;
          this.#pump();
        }
      });
  }

  async #fill(): Promise<void> {
    while (!this.#paused && !this.#draining && this.#running.size < this.#o.concurrency) {
      const next = this.#pick();
      if (!next) return;
      this.#claiming.add(next.path);
      const claim = await this.#o.claims.tryClaim(next.path).finally(() => {
        this.#claiming.delete(next.path);
      });
      if ('refused' in claim) {
        this.#tried.add(next.path);
        this.#note(next, claim.refused);
        continue;
      }
      this.#running.set(next.path, claim);
      this.emit('busy', this.runningTasks);
      void this.#run(next, claim).finally(() => {
        this.#running.delete(next.path);
        this.emit('busy', this.runningTasks);
        this.#pump();
      });
    }
  }

  /**
   * Tells the task's board (if it follows the folder alone) what stood in the way: a locked
   * task is not tried again until the folder changes (the master marks a freed task there), a
   * finished one not at all.
   */
  #note(task: Candidate, seen: ClaimRefusal | 'completed'): void {
    const board = this.#boards.get(`${task.job}/${task.kind}`)?.board;
    if (!board || seen === 'gone' || seen === 'changed') return;
    board.note(task.index, {
      locked: seen === 'locked',
      done: seen === 'done' || seen === 'completed',
      failed: seen === 'failed',
    });
  }

  /** Frees our orphaned locks soon; retried (bounded by the worker's life) while ZooKeeper is away. */
  #scheduleReap(delayMs = 200): void {
    if (this.#reapTimer || this.#draining) return;
    this.#reapTimer = setTimeout(() => {
      this.#reapTimer = null;
      const locked = [...this.#boards.values()].flatMap(({ board }) =>
        board.tasks
          // Following the folder alone, a lock is known only where a claim attempt met it.
          .filter((t) => (t.locked || board.follow === 'folder') && !t.done && !t.failed)
          .map((t) => board.taskPath(t.index))
          .filter((path) => !this.#running.has(path) && !this.#claiming.has(path)),
      );
      releaseOrphanLocks(this.#o.session, locked).then(
        (freed) => {
          if (freed.length === 0) return;
          this.#o.logger.warn(
            { tasks: freed },
            'released task locks left by an interrupted request',
          );
          this.#pump();
        },
        () => this.#scheduleReap(1000),
      );
    }, delayMs);
    this.#reapTimer.unref();
  }

  /** A free task of the oldest job (ids sort by time), chosen at random among its free tasks. */
  #pick(): Candidate | null {
    const keys = [...this.#boards.keys()].sort();
    for (const key of keys) {
      const [job, kind] = key.split('/') as [string, TaskKind];
      const { board } = this.#boards.get(key) as BoardHandle;
      const free = board.tasks.filter((t) => {
        const path = board.taskPath(t.index);
        const failedHereAt = this.#failedHere.get(path) ?? 0;
        return (
          !t.locked &&
          !t.done &&
          !t.failed &&
          !this.#running.has(path) &&
          !this.#tried.has(path) &&
          Date.now() - failedHereAt > RETRY_ELSEWHERE_MS
        );
      });
      if (free.length === 0) continue;
      const t = free[Math.floor(Math.random() * free.length)];
      return { job, kind, index: t.index, path: board.taskPath(t.index) };
    }
    return null;
  }

  async #run(task: Candidate, claim: Claim): Promise<void> {
    const stop = new AbortController();
    this.#stops.set(task.path, stop);
    const o = this.#o;
    try {
      await runAttempt(
        {
          session: o.session,
          claims: o.claims,
          executor: o.executor,
          logger: o.logger,
          maxAttempts: o.maxAttempts,
          ...(o.faults ? { faults: o.faults } : {}),
          stop: stop.signal,
          report: (kind, outcome, seconds, pixels) => {
            if (outcome === 'done') this.#note(task, 'completed');
            this.emit('task', kind, outcome, seconds, pixels);
          },
          failedHere: () => {
            this.#failedHere.set(task.path, Date.now());
            // Wake up again when this pod may take the retry itself (if nobody else did).
            setTimeout(() => this.#pump(), RETRY_ELSEWHERE_MS + 10).unref();
          },
          lockLeft: () => this.#scheduleReap(),
        },
        task,
        claim,
      );
    } finally {
      this.#stops.delete(task.path);
    }
  }
}
