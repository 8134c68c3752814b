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
});
