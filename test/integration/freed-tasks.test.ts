import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ZkSession } from '../../src/coordination/index.js';
import { announceFreed } from '../../src/jobs/master/freed-tasks.js';
import { TaskBoards } from '../../src/jobs/shared-boards.js';
import { Cleanup, openSession, startServer, waitUntil } from '../support/zk.js';

const LOG = 'freed-tasks';

describe('announcing freed tasks to pods that follow a phase folder alone', () => {
  const cleanup = new Cleanup();
  let master: ZkSession;
  let pod: ZkSession;

  before(async () => {
    const server = await startServer(cleanup);
    master = await openSession(cleanup, server, LOG, 'master');
    pod = await openSession(cleanup, server, LOG, 'pod');
  });
  after(() => cleanup.run());

  it('toggles the marker: every announcement is a folder change the pod hears', async () => {
    const folder = '/jobs/freed/equalize';
    await master.ensurePath(`${folder}/task_0`);
    let changes = 0;
    const board = new TaskBoards(pod).open(folder, () => changes++, 'folder').board;
    await waitUntil(() => board.ready && changes === 1, 5_000, 'listed');
    for (let round = 1; round <= 4; round++) {
      board.note(0, { locked: true, done: false, failed: false });
      await announceFreed(master, folder);
      await waitUntil(() => changes === round + 1, 5_000, `announcement ${round} heard`);
      assert.equal(board.tasks[0]?.locked, false, 'the pod tries the task again');
      assert.equal((await master.exists(`${folder}/freed`)) !== null, round % 2 === 1);
    }
  });

  it('needs no folder: a phase already removed has nobody to tell', async () => {
    await announceFreed(master, '/jobs/gone/histograms');
    assert.equal(await master.exists('/jobs/gone'), null);
  });
});
