import { EventEmitter } from 'node:events';
import type { StopWatching, ZkSession } from '../coordination/index.js';
import { taskIndex } from './paths.js';

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
  #closed = false;

  constructor(session: ZkSession, folder: string) {
    super();
    this.#session = session;
    this.#folder = folder;
    this.#stopFolder = session.watchChildren(folder, (names) => this.#onFolder(names ?? []));
  }

  /** True once the folder has been listed and every task's children read at least once. */
  get ready(): boolean {
    return this.#listed && [...this.#watches.keys()].every((name) => this.#tasks.has(name));
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

  #onFolder(names: string[]): void {
    if (this.#closed) return;
    this.#listed = true;
    const present = new Set(names.filter((n) => taskIndex(n) !== null));
    for (const [name, stop] of this.#watches) {
      if (!present.has(name)) {
        stop();
        this.#watches.delete(name);
        this.#tasks.delete(name);
      }
    }
    for (const name of present) {
      if (this.#watches.has(name)) continue;
      const index = taskIndex(name) as number;
      this.#watches.set(
        name,
        this.#session.watchChildren(`${this.#folder}/${name}`, (children) => {
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
            // Done and failed are terminal: stop following the task (its removal at cleanup
            // would cost every pod one more read); the folder watch still notices it going.
            if (status.done || status.failed) this.#watches.get(name)?.();
          }
          this.#emitChange();
        }),
      );
    }
    this.#emitChange();
  }

  #emitChange(): void {
    this.#sorted = null;
    this.emit('change', this.tasks);
  }
}
