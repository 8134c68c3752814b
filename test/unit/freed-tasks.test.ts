import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/common/random.js';
import { FreedTasks } from '../../src/jobs/master/freed-tasks.js';
import type { TaskStatus } from '../../src/jobs/task-board.js';

type State = 'free' | 'locked' | 'done' | 'failed';

function view(states: readonly State[]): TaskStatus[] {
  return states.map((s, index) => ({
    index,
    locked: s === 'locked',
    done: s === 'done',
    failed: s === 'failed',
  }));
}

describe('when the master announces freed tasks', () => {
  it('a fresh phase: free tasks at the start are no news; a lock gone without done is', () => {
    const freed = new FreedTasks(false);
    assert.equal(freed.changed(view(['free', 'free'])), false);
    assert.equal(freed.changed(view(['locked', 'free'])), false);
    assert.equal(freed.changed(view(['locked', 'locked'])), false);
    assert.equal(freed.changed(view(['done', 'locked'])), false, 'finished, not freed');
    assert.equal(freed.changed(view(['done', 'free'])), true, 'the claim went without done');
    assert.equal(freed.changed(view(['done', 'free'])), false, 'told once');
  });

  it('a resumed phase: tasks free at the first look are announced at once', () => {
    assert.equal(new FreedTasks(true).changed(view(['done', 'free'])), true);
    assert.equal(new FreedTasks(true).changed(view(['done', 'locked'])), false);
    assert.equal(new FreedTasks(true).changed(view(['done', 'failed'])), false);
  });

  it('matches an independent reading of random sequences of views', () => {
    const next = seededRandom(7);
    const states: State[] = ['free', 'locked', 'done', 'failed'];
    for (let run = 0; run < 200; run++) {
      const resumed = next() < 0.5;
      const freed = new FreedTasks(resumed);
      const tasks = 1 + Math.floor(next() * 4);
      let previous: State[] | null = null;
      for (let step = 0; step < 8; step++) {
        const current = Array.from({ length: tasks }, () => states[Math.floor(next() * 4)]!);
        const expected: boolean =
          previous === null
            ? resumed && current.includes('free')
            : current.some((s, i) => s === 'free' && previous?.[i] === 'locked');
        assert.equal(freed.changed(view(current)), expected, `${previous} → ${current}`);
        previous = current;
      }
    }
  });
});
