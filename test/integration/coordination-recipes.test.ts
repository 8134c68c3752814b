import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCode } from '../../src/common/errors.js';
import {
  LeaderElection,
  Membership,
  sortCandidates,
  TaskClaims,
  type MemberInfo,
  type ZkSession,
} from '../../src/coordination/index.js';
import type { ZookeeperServer } from '../../src/local/zookeeper-server.js';
import {
  Cleanup,
  nextEvent,
  openSession,
  startServer,
  testLogger,
  waitUntil,
  watchesBySession,
} from '../support/zk.js';

const LOG = 'coordination-recipes';

describe('coordination recipes on a real ZooKeeper', () => {
  const cleanup = new Cleanup();
  let server: ZookeeperServer;
  let admin: ZkSession;

  before(async () => {
    // `wchc` (watches by session) is off by default; these tests count watches with it.
    server = await startServer(cleanup, { fourLetterWords: ['srvr', 'ruok', 'wchc'] });
    admin = await openSession(cleanup, server, LOG, 'admin');
  });
  after(() => cleanup.run());

  async function elect(pod: string, basePath: string): Promise<LeaderElection> {
    const session = await openSession(cleanup, server, LOG, pod);
    const election = await LeaderElection.create({
      session,
      pod,
      basePath,
      logger: testLogger(LOG, pod),
    });
    cleanup.add(() => election.close());
    return election;
  }

  it('five candidates elect exactly one leader; each watches only its predecessor', async () => {
    const base = '/election-five';
    const pods = ['p0', 'p1', 'p2', 'p3', 'p4'];
    const elections: LeaderElection[] = [];
    const sessions = new Map<LeaderElection, ZkSession>();
    for (const pod of pods) {
      const session = await openSession(cleanup, server, LOG, pod);
      const election = await LeaderElection.create({
        session,
        pod,
        basePath: base,
        logger: testLogger(LOG, pod),
      });
      cleanup.add(() => election.close());
      elections.push(election);
      sessions.set(election, session);
    }
    await waitUntil(() => elections.filter((e) => e.isLeader).length === 1, 2_000, 'one leader');
    assert.ok(elections[0]?.isLeader, 'the first to enter has the lowest sequence');
    assert.equal((await elections[3]?.currentLeader())?.pod, 'p0');

    const order = sortCandidates(await admin.getChildren(base)).map((n) => `${base}/${n}`);
    assert.deepEqual(
      order,
      elections.map((e) => e.candidatePath),
    );
    const watches = watchesBySession(await server.fourLetterWord('wchc'));
    for (const [i, election] of elections.entries()) {
      const watched = (watches.get(sessions.get(election)?.sessionId ?? '') ?? []).filter((p) =>
        p.startsWith(base),
      );
      // The leader watches its own candidate (to notice an outside deletion); the others
      // watch their predecessor and nothing else under the election folder: no herd.
      assert.deepEqual(watched, i === 0 ? [order[0]] : [order[i - 1]], `watches of ${pods[i]}`);
    }

    // A graceful step-down: the next candidate leads in well under a second.
    const elected = nextEvent(elections[1] as LeaderElection, 'elected', 1_000);
    const demoted = nextEvent<[string]>(elections[0] as LeaderElection, 'demoted', 1_000);
    const started = Date.now();
    await elections[0]?.close();
    await elected;
    assert.ok(Date.now() - started < 1_000);
    assert.equal((await demoted)[0], 'election closed');
    assert.equal(elections.filter((e) => e.isLeader).length, 1);

    // A leader whose session closes (a pod exiting) is replaced as fast.
    const nextElected = nextEvent(elections[2] as LeaderElection, 'elected', 1_000);
    const t1 = Date.now();
    await sessions.get(elections[1] as LeaderElection)?.close();
    await nextElected;
    assert.ok(Date.now() - t1 < 1_000);
    // A middle candidate leaving re-links the chain without waking the leader.
    await elections[3]?.close();
    await waitUntil(
      async () => {
        const w = watchesBySession(await server.fourLetterWord('wchc'));
        const of4 = w.get(sessions.get(elections[4] as LeaderElection)?.sessionId ?? '') ?? [];
        return of4.includes(elections[2]?.candidatePath ?? '?');
      },
      2_000,
      'p4 watches p2 after p3 left',
    );
    assert.ok(elections[2]?.isLeader);
    assert.ok(!elections[4]?.isLeader);
  });

  it('fences master writes with a check on the leader candidate', async () => {
    const base = '/election-fence';
    const leader = await elect('f0', base);
    const follower = await elect('f1', base);
    await admin.ensurePath('/fenced');
    assert.throws(
      () => follower.fence(),
      (err) => errorCode(err) === 'NOT_MASTER',
    );
    const fence = leader.fence();
    await admin.multi().add(fence).create('/fenced/one', 'x').commit();
    assert.ok(await admin.exists('/fenced/one'));
    // Once the candidate is gone, a write carrying the old fence cannot commit.
    await leader.close();
    await assert.rejects(admin.multi().add(fence).create('/fenced/two').commit(), (err) => {
      assert.equal(errorCode(err), 'NOT_FOUND');
      return true;
    });
    assert.equal(await admin.exists('/fenced/two'), null);
    await waitUntil(() => follower.isLeader, 1_000, 'follower takes over');
    await admin.multi().add(follower.fence()).create('/fenced/two').commit();
  });

  it('keeps a live membership view and removes a member that leaves', async () => {
    const base = '/nodes-test';
    const members: Membership[] = [];
    for (const pod of ['m0', 'm1', 'm2']) {
      const session = await openSession(cleanup, server, LOG, pod);
      const membership = await Membership.create({
        session,
        basePath: base,
        logger: testLogger(LOG, pod),
        self: {
          pod,
          url: `http://127.0.0.1/${pod}`,
          pid: process.pid,
          role: 'worker',
          version: '1',
        },
      });
      cleanup.add(() => membership.close());
      members.push(membership);
    }
    const [m0, m1, m2] = members as [Membership, Membership, Membership];
    await waitUntil(() => m0.members.length === 3, 2_000, 'm0 sees everyone');
    assert.deepEqual(
      m0.members.map((m) => m.pod),
      ['m0', 'm1', 'm2'],
    );
    const stat = await admin.exists(`${base}/m1`);
    assert.ok(stat && stat.ephemeralOwner.some((b) => b !== 0), 'members are ephemeral');

    const changed = nextEvent<[MemberInfo[]]>(m2, 'change', 2_000);
    await m1.update({ role: 'master' });
    const [view] = await changed;
    assert.equal(view.find((m) => m.pod === 'm1')?.role, 'master');
    assert.equal(m1.self.role, 'master');

    await m2.close();
    await waitUntil(() => m0.member('m2') === undefined, 2_000, 'm2 gone from the view');
    assert.equal(await admin.exists(`${base}/m2`), null);
    assert.deepEqual(
      m1.members.map((m) => m.pod),
      ['m0', 'm1'],
    );
  });

  it('lets exactly one of many concurrent claimers win a task', async () => {
    await admin.ensurePath('/jobs/j1/histograms');
    const task = '/jobs/j1/histograms/task_0';
    await admin.create(task, JSON.stringify({ strip: [0, 64], input: 'uploads/a.tif' }));
    const claimers: TaskClaims[] = [];
    for (let i = 0; i < 8; i++) {
      const pod = `c${i}`;
      const session = await openSession(cleanup, server, LOG, pod);
      claimers.push(new TaskClaims({ session, pod, logger: testLogger(LOG, pod) }));
    }
    const claims = await Promise.all(claimers.map((c) => c.claim(task)));
    const winners = claims.filter((c) => c !== null);
    assert.equal(winners.length, 1, 'one winner');
    const claim = winners[0];
    assert.ok(claim);
    assert.equal(claim.attempt, 1);
    assert.equal(claim.version, 1, 'the claim bumped the task version (fencing token)');
    const winner = claimers[claims.indexOf(claim)] as TaskClaims;
    const state = await winner.read(task);
    assert.equal(state?.lock?.pod, claim.pod);
    assert.equal(state?.spec.attempt, 1);
    assert.deepEqual(
      state?.spec.history?.map((h) => h.pod),
      [claim.pod],
    );
    assert.equal(state?.spec.input, 'uploads/a.tif', 'the job part of the spec is kept');

    const done = await winner.complete(claim, { pointer: 'work/j1/h0.bin', checksum: 'abc' });
    assert.equal(done.pointer, 'work/j1/h0.bin');
    const after = await winner.read(task);
    assert.equal(after?.lock, null, 'lock removed');
    assert.equal(after?.done?.checksum, 'abc');
    assert.equal(after?.version, 2, 'completion bumped the version again');
    assert.deepEqual(
      await Promise.all(claimers.map((c) => c.claim(task))),
      claimers.map(() => null),
    );
  });

  it('a stale claimer cannot commit after its claim was broken and re-claimed', async () => {
    await admin.ensurePath('/jobs/j2/equalize');
    const task = '/jobs/j2/equalize/task_0';
    await admin.create(task, JSON.stringify({ lut: 'work/j2/lut.bin' }));
    const [slow, fast, master] = await Promise.all(
      ['slow', 'fast', 'master'].map(async (pod) => {
        const session = await openSession(cleanup, server, LOG, pod);
        return new TaskClaims({ session, pod, logger: testLogger(LOG, pod) });
      }),
    );
    assert.ok(slow && fast && master);
    const stale = await slow.claim(task);
    assert.ok(stale);
    assert.equal(await master.releaseStale(task, 60_000), false, 'not old enough yet');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await master.releaseStale(task, 100), true);
    assert.equal(await master.releaseStale(task, 100), false, 'nothing left to break');
    const fresh = await fast.claim(task);
    assert.ok(fresh);
    assert.equal(fresh.attempt, 2);
    await assert.rejects(slow.complete(stale, { pointer: 'p', checksum: 'c' }), (err) => {
      assert.equal(errorCode(err), 'LOST_CLAIM');
      assert.match(String((err as Error).message), /attempt 1 by slow/);
      return true;
    });
    assert.equal(await slow.release(stale), false, 'a lost claim cannot release the new lock');
    assert.equal((await fast.read(task))?.lock?.pod, 'fast');
    // releaseStale must not break the new claim on the strength of the old one's age.
    assert.equal(await master.releaseStale(task, 60_000), false);
    await fast.complete(fresh, { pointer: 'work/j2/e0.bin', checksum: 'def' });
    assert.equal((await master.read(task))?.done?.pod, 'fast');

    // A released claim (SIGTERM drain) cannot be completed either, and the task is free again.
    const task2 = '/jobs/j2/equalize/task_1';
    await admin.create(task2, '{}');
    const drained = await slow.claim(task2);
    assert.ok(drained);
    assert.equal(await slow.release(drained), true);
    await assert.rejects(slow.complete(drained, { pointer: 'p', checksum: 'c' }), (err) => {
      return errorCode(err) === 'LOST_CLAIM';
    });
    assert.equal((await fast.claim(task2))?.attempt, 2);
  });
});
