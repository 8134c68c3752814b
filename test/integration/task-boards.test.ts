import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ZkSession } from '../../src/coordination/index.js';
import { TaskBoards } from '../../src/jobs/shared-boards.js';
import type { TaskStatus } from '../../src/jobs/task-board.js';
import { Cleanup, openSession, startServer, waitUntil } from '../support/zk.js';

const LOG = 'task-boards';
const FOLDER = '/jobs/j1/histograms';

describe('task boards shared within a pod', () => {
  const cleanup = new Cleanup();
  let zk: ZkSession;
  let writer: ZkSession;

  before(async () => {
    const server = await startServer(cleanup);
    zk = await openSession(cleanup, server, LOG, 'pod');
    writer = await openSession(cleanup, server, LOG, 'writer');
    for (const i of [0, 1, 2]) await writer.ensurePath(`${FOLDER}/task_${i}`);
  });
  after(() => cleanup.run());

  it('gives a late user the current tasks at once and reads each change once for all users', async () => {
    const boards = new TaskBoards(zk);
    const first: (readonly TaskStatus[])[] = [];
    const one = boards.open(FOLDER, (tasks) => first.push(tasks));
    await waitUntil(() => one.board.ready && first.at(-1)?.length === 3, 5_000, 'board ready');

    const second: (readonly TaskStatus[])[] = [];
    const two = boards.open(FOLDER, (tasks) => second.push(tasks));
    assert.equal(two.board, one.board, 'one board per folder per session');
    await waitUntil(() => second.length === 1, 2_000, 'late user told');
    assert.deepEqual(second[0], first.at(-1), 'the late user starts from the complete board');

    const readsBefore = zk.operations.getChildren ?? 0;
    await writer.create(`${FOLDER}/task_1/lock`, 'x');
    const locked = (tasks: readonly TaskStatus[] | undefined) =>
      tasks?.find((t) => t.index === 1)?.locked;
    await waitUntil(
      () => Boolean(locked(first.at(-1)) && locked(second.at(-1))),
      5_000,
      'both users see the lock',
    );
    assert.equal((zk.operations.getChildren ?? 0) - readsBefore, 1, 'one read, both users told');

    // The board lives while anyone holds it, and stops watching with its last user.
    one.close();
    await writer.create(`${FOLDER}/task_2/done`, 'x');
    const done2 = (tasks: readonly TaskStatus[] | undefined) =>
      tasks?.find((t) => t.index === 2)?.done;
    await waitUntil(() => Boolean(done2(second.at(-1))), 5_000, 'done seen');
    assert.ok(!done2(first.at(-1)), 'a closed handle hears nothing more');
    two.close();
    const three = boards.open(FOLDER, () => {});
    assert.notEqual(three.board, one.board, 'closed with its last user; the next one is new');
    three.close();
  });

  it('reads finished tasks again when the master re-opens them (a rerun marker)', async () => {
    const folder = '/jobs/rerun/equalize';
    for (const i of [0, 1]) {
      await writer.ensurePath(`${folder}/task_${i}`);
      await writer.create(`${folder}/task_${i}/done`, 'x');
    }
    const seen: (readonly TaskStatus[])[] = [];
    const handle = new TaskBoards(zk).open(folder, (tasks) => seen.push(tasks));
    const doneOf = (i: number) => seen.at(-1)?.find((t) => t.index === i)?.done;
    await waitUntil(
      () => Boolean(handle.board.ready && doneOf(0) && doneOf(1)),
      5_000,
      'both done',
    );
    // As the master does it: `done` removed and a marker created, in one transaction.
    await writer.commit([
      { op: 'remove', path: `${folder}/task_1/done` },
      { op: 'create', path: `${folder}/rerun_1` },
    ]);
    await waitUntil(() => handle.board.ready && doneOf(1) === false, 5_000, 'task 1 open again');
    assert.equal(doneOf(0), true, 'the other task stays done');
    assert.equal(seen.at(-1)?.length, 2, 'the marker is not a task');
    handle.close();
  });

  it('following the folder alone: no read per task, notes kept until the folder changes', async () => {
    const folder = '/jobs/folder-only/histograms';
    for (const i of [0, 1, 2]) await writer.ensurePath(`${folder}/task_${i}`);
    await writer.create(`${folder}/task_0/lock`, 'x');
    const boards = new TaskBoards(zk);
    const seen: (readonly TaskStatus[])[] = [];
    const readsBefore = zk.operations.getChildren ?? 0;
    const handle = boards.open(folder, (tasks) => seen.push(tasks), 'folder');
    await waitUntil(() => handle.board.ready && seen.at(-1)?.length === 3, 5_000, 'listed');
    assert.equal((zk.operations.getChildren ?? 0) - readsBefore, 1, 'the folder read alone');
    // Nobody has read a task's children yet: every task is a candidate, the locked one too.
    assert.ok(seen.at(-1)?.every((t) => !t.locked && !t.done && !t.failed));

    // What a claim attempt found is kept, silently, and shows in the tasks.
    const changes = seen.length;
    handle.board.note(0, { locked: true, done: false, failed: false });
    handle.board.note(1, { locked: false, done: true, failed: false });
    const status = (i: number) => handle.board.tasks.find((t) => t.index === i);
    assert.equal(status(0)?.locked, true);
    assert.equal(status(1)?.done, true);
    assert.equal(seen.length, changes, 'a note is no change');
    await writer.create(`${folder}/task_1/done`, 'x');
    await writer.create(`${folder}/task_2/lock`, 'x');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(seen.length, changes, 'changes under the tasks are not followed');

    // The master marks a freed task: noted locks go stale, finished tasks stay finished.
    await writer.create(`${folder}/freed`);
    await waitUntil(() => seen.length > changes, 5_000, 'the folder change seen');
    assert.equal(status(0)?.locked, false, 'the noted lock is forgotten');
    assert.equal(status(1)?.done, true, 'a noted done is kept');
    assert.equal(seen.at(-1)?.length, 3, 'the marker is not a task');

    // A user that must see every change makes the board follow every task.
    const full: (readonly TaskStatus[])[] = [];
    const waiter = boards.open(folder, (tasks) => full.push(tasks));
    assert.equal(waiter.board, handle.board);
    assert.equal(handle.board.follow, 'tasks');
    await waitUntil(() => handle.board.ready && full.length > 0, 5_000, 'every task read');
    const last = full.at(-1);
    assert.deepEqual(
      last?.map((t) => [t.index, t.locked, t.done]),
      [
        [0, true, false],
        [1, false, true],
        [2, true, false],
      ],
      'the tasks as their children are',
    );
    handle.board.note(2, { locked: false, done: true, failed: false });
    assert.equal(status(2)?.done, false, 'notes are ignored once tasks are followed');
    waiter.close();
    handle.close();
  });
});
