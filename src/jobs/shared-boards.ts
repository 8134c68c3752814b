import type { ZkSession } from '../coordination/index.js';
import { TaskBoard, type TaskStatus } from './task-board.js';

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

// Keyed by session: tests run several pods, each with its own session, in one process.
const boardsBySession = new WeakMap<ZkSession, Map<string, Shared>>();

/**
 * The pod's one TaskBoard of a phase folder, shared by its users: the task loop on every pod
 * and, on the master, the phase waiter. A board is a children watch per task, and every
 * change costs each board a read, so two boards on one folder doubled the master's ZooKeeper
 * traffic (and its event-loop time) for nothing. A user that arrives after the board is
 * complete gets one call at once (asynchronously) instead of waiting for the next change.
 */
export function openTaskBoard(
  session: ZkSession,
  folder: string,
  onChange: (tasks: readonly TaskStatus[], board: TaskBoard) => void,
): BoardHandle {
  let boards = boardsBySession.get(session);
  if (!boards) boardsBySession.set(session, (boards = new Map()));
  let shared = boards.get(folder);
  if (!shared) {
    shared = { board: new TaskBoard(session, folder), users: 0 };
    boards.set(folder, shared);
  }
  shared.users++;
  const { board } = shared;
  const listener = (tasks: readonly TaskStatus[]) => onChange(tasks, board);
  board.on('change', listener);
  let open = true;
  if (board.ready) queueMicrotask(() => open && onChange(board.tasks, board));
  return {
    board,
    close() {
      if (!open) return;
      open = false;
      board.off('change', listener);
      const current = boards.get(folder);
      if (current?.board === board && --current.users === 0) {
        boards.delete(folder);
        board.close();
      }
    },
  };
}

/** Makes this pod's board of `folder`, if it has one open, read its finished tasks again. */
export function refreshTaskBoard(session: ZkSession, folder: string): void {
  boardsBySession.get(session)?.get(folder)?.board.refreshFinished();
}
