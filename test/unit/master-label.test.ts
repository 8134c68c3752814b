import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { RoleLabeler } from '../../src/cluster/role-labeler.js';
import { createLogger } from '../../src/common/log.js';
import { MasterLabel } from '../../src/pod/master-label.js';
import { podReadiness, type ReadinessInputs } from '../../src/pod/readiness.js';

const quiet = createLogger({
  pod: 'test',
  level: 'fatal',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});

/** An in-memory labeler whose calls can be made to fail, like an API server denying RBAC. */
class FakeLabeler implements RoleLabeler {
  labelled = false;
  failures = 0;
  calls: string[] = [];
  async becomeMaster(): Promise<void> {
    this.calls.push('becomeMaster');
    this.labelled = true;
  }
  async stepDown(): Promise<void> {
    this.calls.push('stepDown');
    if (this.failures > 0) {
      this.failures--;
      throw new Error('forbidden');
    }
    this.labelled = false;
  }
  async close(): Promise<void> {}
}

describe('podReadiness', () => {
  const base: ReadinessInputs = {
    zkState: 'connected',
    leading: false,
    mayCarryMasterLabel: false,
    stopping: false,
  };

  it('a connected worker and a connected leader are ready', () => {
    assert.deepEqual(podReadiness({ ...base, zkState: 'connected' }), { ready: true });
    assert.deepEqual(podReadiness({ ...base, leading: true, mayCarryMasterLabel: true }), {
      ready: true,
    });
  });

  it('follows the ZooKeeper session', () => {
    for (const zkState of ['connecting', 'suspended', 'expired', 'closed'] as const) {
      const r = podReadiness({ ...base, zkState, leading: true, mayCarryMasterLabel: true });
      assert.equal(r.ready, false);
      assert.match(r.reason!, new RegExp(`ZooKeeper session is ${zkState}`));
    }
  });

  it('a pod that may carry role=master without leading is not ready', () => {
    const r = podReadiness({ ...base, mayCarryMasterLabel: true, leading: false });
    assert.equal(r.ready, false);
    assert.match(r.reason!, /role=master/);
  });

  it('a stopping pod is not ready', () => {
    assert.equal(podReadiness({ ...base, stopping: true }).ready, false);
  });
});

describe('MasterLabel', () => {
  it('assumes an inherited label until it has removed it', async () => {
    const labeler = new FakeLabeler();
    const label = new MasterLabel({ labeler, isLeader: () => false, logger: quiet });
    assert.equal(label.mayCarry, true);
    await label.remove();
    assert.equal(label.mayCarry, false);
    assert.deepEqual(labeler.calls, ['stepDown']);
  });

  it('publish marks the label before the call; remove leaves a leader alone', async () => {
    const labeler = new FakeLabeler();
    let leader = true;
    const label = new MasterLabel({ labeler, isLeader: () => leader, logger: quiet });
    await label.publish();
    assert.equal(label.mayCarry, true);
    await label.remove(); // still the leader: the label is wanted
    assert.equal(labeler.labelled, true);
    leader = false;
    await label.remove();
    assert.equal(labeler.labelled, false);
    assert.equal(label.mayCarry, false);
  });

  it('keeps retrying a failed removal, staying "may carry" until it succeeds', async () => {
    const labeler = new FakeLabeler();
    labeler.failures = 2;
    const label = new MasterLabel({
      labeler,
      isLeader: () => false,
      logger: quiet,
      minRetryDelayMs: 5,
      maxRetryDelayMs: 10,
    });
    await label.remove();
    assert.equal(label.mayCarry, true);
    const deadline = Date.now() + 5000;
    while (label.mayCarry && Date.now() < deadline) await sleep(5);
    assert.equal(label.mayCarry, false);
    assert.deepEqual(labeler.calls, ['stepDown', 'stepDown', 'stepDown']);
    label.close();
  });

  it('stops retrying once elected again, and after close()', async () => {
    const labeler = new FakeLabeler();
    labeler.failures = 100;
    let leader = false;
    const label = new MasterLabel({
      labeler,
      isLeader: () => leader,
      logger: quiet,
      minRetryDelayMs: 5,
      maxRetryDelayMs: 5,
    });
    await label.remove();
    leader = true;
    await label.publish();
    const calls = labeler.calls.length;
    await sleep(50);
    assert.equal(labeler.calls.length, calls, 'no removal behind a new publish');
    leader = false;
    await label.remove();
    label.close();
    const afterClose = labeler.calls.length;
    await sleep(50);
    assert.equal(labeler.calls.length, afterClose);
  });
});
