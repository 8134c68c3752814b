import { isZkError, type ZkSession } from '../../coordination/index.js';
import { FREED_MARKER, type TaskStatus } from '../task-board.js';

/**
 * A task left free this long makes the master announce it again: a claim and its release
 * quicker than the master's reads, seen by a pod but not by the master, would otherwise leave
 * it to pods that no longer try it.
 */
export const FREED_RECHECK_MS = 2_000;

/**
 * Tells pods that follow a phase's folder alone that a task there came free (its claimer died,
 * gave it back, or timed out): the marker node is toggled (created, or removed if there), a
 * change of the folder every such pod is told of. A folder already gone needs no news.
 */
export async function announceFreed(session: ZkSession, folder: string): Promise<void> {
  const marker = `${folder}/${FREED_MARKER}`;
  try {
    await session.create(marker);
  } catch (err) {
    if (isZkError(err, 'NO_NODE')) return;
    if (!isZkError(err, 'NODE_EXISTS')) throw err;
    try {
      await session.remove(marker);
    } catch (e) {
      if (!isZkError(e, 'NO_NODE')) throw e;
    }
  }
}

/**
 * Follows a phase's tasks (as its master's board sees them) and says when the pods must be
 * told that tasks came free: a lock gone without `done`, or, at once, tasks already free when
 * a resumed phase is first seen (its pods may have met the lock of a pod that died since).
 */
export class FreedTasks {
  #locked = new Set<number>();
  #first = true;

  constructor(private readonly resumed: boolean) {}

  /** True if this view of the tasks calls for an announcement. */
  changed(tasks: readonly TaskStatus[]): boolean {
    const locked = new Set(tasks.filter((t) => t.locked && !t.done).map((t) => t.index));
    const freed = tasks.some((t) => isFree(t) && (this.#locked.has(t.index) || this.#first));
    const announce = freed && (!this.#first || this.resumed);
    this.#first = false;
    this.#locked = locked;
    return announce;
  }
}

export function isFree(t: TaskStatus): boolean {
  return !t.locked && !t.done && !t.failed;
}
