import type { Logger } from '../../common/log.js';
import { errorMessage } from '../../common/errors.js';
import type { TaskClaims, ZkSession } from '../../coordination/index.js';
import { tasksPath, type TaskKind } from '../paths.js';
import type { TaskBoards } from '../shared-boards.js';
import type { TaskStatus } from '../task-board.js';
import { announceFreed, FREED_RECHECK_MS, FreedTasks, isFree } from './freed-tasks.js';

export type PhaseOutcome = { ok: true } | { ok: false; failedIndex: number };

export interface PhaseWaitOptions {
  session: ZkSession;
  /** The pod's task boards (shared with its task loop). */
  boards: TaskBoards;
  claims: TaskClaims;
  logger: Logger;
  job: string;
  kind: TaskKind;
  total: number;
  /** A claim held longer than this is broken so another pod can take the task. */
  taskTimeoutMs: number;
  signal: AbortSignal;
  /**
   * The phase began before this wait (a new master resuming it), rather than by the state
   * change just written: tasks free at the first look are announced to the pods at once.
   */
  resumed: boolean;
  onProgress: (done: number) => Promise<void> | void;
}

/**
 * Waits, on watches, until every task of a phase is done or one has failed for good. Breaks
 * claims that outlive TASK_TIMEOUT_MS with a local timer per locked task (no polling of
 * ZooKeeper); the broken claim's late commit is refused by the claim's fencing version.
 */
export function waitForPhase(o: PhaseWaitOptions): Promise<PhaseOutcome> {
  const timers = new Map<number, NodeJS.Timeout>();
  // The state change that began the phase recorded 0 done: nothing to write until one is. (A
  // write that changes nothing still costs a read of the record, and the phase's end waits
  // for it.)
  let lastDone = 0;
  const folder = tasksPath(o.job, o.kind);
  const freed = new FreedTasks(o.resumed);
  let recheck: NodeJS.Timeout | null = null;
  return new Promise<PhaseOutcome>((resolve, reject) => {
    // Shared with the pod's task loop (shared-boards.ts); it calls back asynchronously only.
    const handle = o.boards.open(folder, (tasks) => onTasks(tasks));
    const board = handle.board;
    let finished = false;
    const finish = (err: unknown, outcome?: PhaseOutcome) => {
      if (finished) return;
      finished = true;
      handle.close();
      if (recheck) clearTimeout(recheck);
      for (const t of timers.values()) clearTimeout(t);
      o.signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(outcome as PhaseOutcome);
    };
    const onAbort = () => finish(o.signal.reason ?? new Error('aborted'));
    o.signal.addEventListener('abort', onAbort, { once: true });

    const watchTimeouts = (tasks: readonly TaskStatus[]) => {
      for (const t of tasks) {
        if (t.locked && !t.done && !timers.has(t.index)) armTimeout(t.index, o.taskTimeoutMs);
        if ((!t.locked || t.done) && timers.has(t.index)) {
          clearTimeout(timers.get(t.index));
          timers.delete(t.index);
        }
      }
    };
    const armTimeout = (index: number, ms: number) => {
      const breakIfStale = async () => {
        timers.delete(index);
        const path = board.taskPath(index);
        try {
          const broken = await o.claims.releaseStale(path, o.taskTimeoutMs);
          if (broken)
            o.logger.warn({ job: o.job, task: `${o.kind}/${index}` }, 'task timed out; reassigned');
        } catch (err) {
          o.logger.warn({ err: errorMessage(err) }, 'could not check a task for timeout');
        }
        // Still locked (a newer claim, or ZooKeeper unreachable): look again later.
        const t = board.tasks.find((x) => x.index === index);
        if (t?.locked && !t.done && !finished)
          armTimeout(index, Math.max(250, o.taskTimeoutMs / 4));
      };
      // breakIfStale handles its own errors; the timer only starts it.
      const timer = setTimeout(() => void breakIfStale(), ms);
      timer.unref();
      timers.set(index, timer);
    };

    // Pods follow the phase's folder alone: a task that comes free is news only the master,
    // which follows every task, can give them (freed-tasks.ts).
    const announce = () => {
      announceFreed(o.session, folder).catch((err: unknown) =>
        o.logger.warn({ err: errorMessage(err) }, 'could not announce a freed task'),
      );
    };
    const armRecheck = (tasks: readonly TaskStatus[]) => {
      if (recheck || finished || !tasks.some(isFree)) return;
      recheck = setTimeout(() => {
        recheck = null;
        if (finished || !board.tasks.some(isFree)) return;
        announce();
        armRecheck(board.tasks);
      }, FREED_RECHECK_MS);
      recheck.unref();
    };

    const onTasks = (tasks: readonly TaskStatus[]) => {
      if (!board.ready) return;
      if (freed.changed(tasks)) announce();
      armRecheck(tasks);
      watchTimeouts(tasks);
      const failed = tasks.find((t) => t.failed);
      if (failed) return finish(null, { ok: false, failedIndex: failed.index });
      const done = tasks.filter((t) => t.done).length;
      // The last task's progress is not written: the state change that ends the phase follows
      // at once, and a progress write in flight would only make it retry on a stale version.
      if (done >= o.total && tasks.length >= o.total) return finish(null, { ok: true });
      if (done !== lastDone) {
        lastDone = done;
        void Promise.resolve(o.onProgress(done)).catch((err) =>
          o.logger.warn({ err: errorMessage(err) }, 'could not record progress'),
        );
      }
    };
  });
}
