import type { ZkSession } from '../coordination/index.js';
import { TaskBoard, type BoardFollow, type TaskStatus } from './task-board.js';

/** One user's hold on a shared board. */
export interface BoardHandle {
  readonly board: TaskBoard;
  /** Stops this user's notifications; the board itself closes with its last user. Idempotent. */
  close(): void;
}

interface Shared {
  board: TaskBoard;
  users: number;
}

/**
 * A pod's task boards, one per phase folder, shared by their users: the task loop on every pod
 * and, on the master, the phase waiter. A board is a children watch per task, and every change
 * costs each board a read, so two boards on one folder doubled the master's ZooKeeper traffic
 * (and its event-loop time) for nothing. The pod makes one and hands it to both users.
 */
export class TaskBoards {
  readonly #session: ZkSession;
  readonly #boards = new Map<string, Shared>();

  constructor(session: ZkSession) {
    this.#session = session;
  }

  /**
   * The board of `folder`, opened by its first user. A user that arrives after the board is
   * complete gets one call at once (asynchronously) instead of waiting for the next change.
   * `follow` (see BoardFollow): a board follows every task once any of its users asks.
   */
  open(
    folder: string,
    onChange: (tasks: readonly TaskStatus[], board: TaskBoard) => void,
    follow: BoardFollow = 'tasks',
  ): BoardHandle {
    let shared = this.#boards.get(folder);
    if (!shared) {
      shared = { board: new TaskBoard(this.#session, folder, follow), users: 0 };
      this.#boards.set(folder, shared);
    } else if (follow === 'tasks') {
      // A user that must see every change: the board follows every task from now on.
      shared.board.followTasks();
    }
    shared.users++;
    const { board } = shared;
    const listener = (tasks: readonly TaskStatus[]) => onChange(tasks, board);
    board.on('change', listener);
    let open = true;
    if (board.ready) queueMicrotask(() => open && onChange(board.tasks, board));
    return {
      board,
      close: () => {
        if (!open) return;
        open = false;
        board.off('change', listener);
        const current = this.#boards.get(folder);
        if (current?.board === board && --current.users === 0) {
          this.#boards.delete(folder);
          board.close();
        }
      },
    };
  }

  /** Makes the board of `folder`, if one is open, read its finished tasks again. */
  refresh(folder: string): void {
    this.#boards.get(folder)?.board.refreshFinished();
  }
}
