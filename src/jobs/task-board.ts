import { EventEmitter } from 'node:events';
import type { StopWatching, ZkSession } from '../coordination/index.js';
import { taskIndex } from './paths.js';

/**
 * Nodes named `rerun_<n>` in a phase folder announce that the master re-opened finished tasks
 * (their `done` removed) because the result failed its check; boards then read those tasks again.
 */
export const RERUN_PREFIX = 'rerun_';

/**
 * A node the master toggles (creates, or removes) in a phase folder when a task there came
 * free again (its claimer died, gave it back or timed out): pods that follow only the folder
 * then try the phase's tasks again.
 */
export const FREED_MARKER = 'freed';

/**
 * How a board learns each task's state. `tasks`: a children watch per task (the master, which
 * must see every lock and every `done`). `folder`: the phase folder alone; what a task's
 * children were is noted by whoever read them (a pod's claim attempts), and forgotten when the
 * folder changes. Five pods each told of every lock and every `done` was most of a small job's
 * ZooKeeper traffic; a pod that only claims needs none of it.
 */
export type BoardFollow = 'tasks' | 'folder';

/** What a task's children say about it. */
export interface TaskStatus {
  index: number;
  locked: boolean;
  done: boolean;
  failed: boolean;
}

interface BoardEvents {
  change: [tasks: readonly TaskStatus[]];
}

/**
 * A live view of one job phase's tasks (`/jobs/<id>/<kind>/task_<i>` and their lock/done/failed
 * children), kept by re-arming children watches — no polling. The master uses it to follow
 * progress; every pod uses it to find claimable tasks. ZooKeeper operations grow with the
 * number of tasks only.
 */
export class TaskBoard extends EventEmitter<BoardEvents> {
  readonly #session: ZkSession;
  readonly #folder: string;
  readonly #tasks = new Map<string, TaskStatus>();
  readonly #watches = new Map<string, StopWatching>();
  // Sorted view handed to every listener of a change; rebuilt only after a change.
  #sorted: TaskStatus[] | null = null;
  #stopFolder: StopWatching;
  #listed = false;
  #seenFolder = false;
  #closed = false;
  readonly #markers = new Set<string>();
  #follow: BoardFollow;

  constructor(session: ZkSession, folder: string, follow: BoardFollow = 'tasks') {
    super();
    this.#session = session;
    this.#folder = folder;
    this.#follow = follow;
    // A phase's folder and tasks are never created again once removed (the job finished,
    // was cancelled or deleted): their removal ends the watches without another read each.
    this.#stopFolder = session.watchChildren(folder, (names) => this.#onFolder(names ?? []), {
      endOnDeletion: true,
    });
  }

  get follow(): BoardFollow {
    return this.#follow;
  }

  /**
   * True once the folder has been listed and (following tasks) every task's children read at
   * least once.
   */
  get ready(): boolean {
    return this.#listed && [...this.#watches.keys()].every((name) => this.#tasks.has(name));
  }

  /** From now on follows every task's children (a user that must see every change). */
  followTasks(): void {
    if (this.#closed || this.#follow === 'tasks') return;
    this.#follow = 'tasks';
    if (!this.#listed) return; // the folder's first listing follows them
    // What was noted goes: until each task's own read is back, the board is not `ready`.
    const names = [...this.#tasks.keys()];
    this.#tasks.clear();
    this.#sorted = null;
    for (const name of names) this.#startFollowing(name);
  }

  /**
   * Following the folder alone: records what a read of task `index`'s children found (a claim
   * attempt's). Kept until the folder changes; no change is emitted. Ignored otherwise: the
   * task's own watch is the better source.
   */
  note(index: number, status: Omit<TaskStatus, 'index'>): void {
    const name = `task_${index}`;
    if (this.#closed || this.#follow !== 'folder' || !this.#tasks.has(name)) return;
    this.#tasks.set(name, { index, ...status });
    this.#sorted = null;
  }

  /** The tasks by index (a shared array: do not modify). */
  get tasks(): readonly TaskStatus[] {
    this.#sorted ??= [...this.#tasks.values()].sort((a, b) => a.index - b.index);
    return this.#sorted;
  }

  taskPath(index: number): string {
    return `${this.#folder}/task_${index}`;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopFolder();
    for (const stop of this.#watches.values()) stop();
    this.#watches.clear();
    this.removeAllListeners();
  }

  /**
   * Reads every finished task again. Done and failed tasks are not followed (see #startFollowing), so
   * when the master re-opens tasks whose result failed its check, this is how a board learns:
   * the master calls it on its own board, and the other pods react to the marker node it creates
   * in the phase folder (RERUN_PREFIX). Until the reads are back the board is not `ready`.
   */
  refreshFinished(): void {
    if (this.#closed) return;
    for (const [name, status] of this.#tasks) {
      if (!status.done && !status.failed) continue;
      if (this.#follow === 'folder') {
        this.#tasks.set(name, unknown(status.index));
        continue;
      }
      this.#watches.get(name)?.();
      this.#watches.delete(name);
      this.#tasks.delete(name);
      this.#startFollowing(name);
    }
    this.#emitChange();
  }

  #onFolder(names: string[]): void {
    if (this.#closed) return;
    this.#listed = true;
    const present = new Set(names.filter((n) => taskIndex(n) !== null));
    for (const name of new Set([...this.#watches.keys(), ...this.#tasks.keys()])) {
      if (!present.has(name)) {
        this.#watches.get(name)?.();
        this.#watches.delete(name);
        this.#tasks.delete(name);
      }
    }
    for (const name of present) {
      if (this.#follow === 'tasks') {
        if (!this.#watches.has(name)) this.#startFollowing(name);
        continue;
      }
      // A change of the folder (a task freed, tasks added) makes noted locks stale.
      const noted = this.#tasks.get(name);
      if (!noted || noted.locked) this.#tasks.set(name, unknown(taskIndex(name) as number));
    }
    const markers = names.filter((n) => n.startsWith(RERUN_PREFIX));
    if (markers.some((m) => !this.#markers.has(m))) {
      const first = !this.#seenFolder;
      for (const m of markers) this.#markers.add(m);
      // Markers already there when the board opened say nothing new: its reads are fresh.
      if (!first) this.refreshFinished();
    }
    this.#seenFolder = true;
    this.#emitChange();
  }

  /** Follows one task's children until it is done or failed. */
  #startFollowing(name: string): void {
    const index = taskIndex(name) as number;
    this.#watches.set(
      name,
      this.#session.watchChildren(
        `${this.#folder}/${name}`,
        (children) => {
          if (this.#closed) return;
          if (children === null) {
            this.#tasks.delete(name);
          } else {
            const status = {
              index,
              locked: children.includes('lock'),
              done: children.includes('done'),
              failed: children.includes('failed'),
            };
            this.#tasks.set(name, status);
            // Done and failed are terminal (unless the master re-opens the task, see
            // refreshFinished): stop following it (its removal at cleanup would cost every pod
            // one more read); the folder watch still notices it going.
            if (status.done || status.failed) this.#watches.get(name)?.();
          }
          this.#emitChange();
        },
        { endOnDeletion: true },
      ),
    );
  }

  #emitChange(): void {
    this.#sorted = null;
    this.emit('change', this.tasks);
  }
}

/** A task whose children nobody has read yet: a candidate for a claim. */
function unknown(index: number): TaskStatus {
  return { index, locked: false, done: false, failed: false };
}
