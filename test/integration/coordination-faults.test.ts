import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { errorCode } from '../../src/common/errors.js';
import {
  LeaderElection,
  Membership,
  sortCandidates,
  TaskClaims,
  type Claim,
  type ZkSession,
} from '../../src/coordination/index.js';
import type { ZookeeperServer } from '../../src/local/zookeeper-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import {
  Cleanup,
  nextEvent,
  openSession,
  startServer,
  testLogger,
  waitUntil,
} from '../support/zk.js';

const LOG = 'coordination-faults';
const NODES = '/nodes';
const ELECTION = '/election';

/** One pod's coordination stack, with a journal of what it went through. */
interface Pod {
  name: string;
  session: ZkSession;
  membership: Membership;
  election: LeaderElection;
  claims: TaskClaims;
  journal: string[];
}

async function startPod(
  cleanup: Cleanup,
  target: { connectionString: string },
  name: string,
  sessionTimeoutMs: number,
): Promise<Pod> {
  const logger = testLogger(LOG, name);
  const session = await openSession(cleanup, target, LOG, name, { sessionTimeoutMs });
  const journal: string[] = [];
  session.on('state', (state, _previous, reason) => journal.push(`${state}: ${reason}`));
  session.on('renewed', () => journal.push('renewed'));
  const membership = await Membership.create({
    session,
    logger,
    self: {
      pod: name,
      url: `http://127.0.0.1/${name}`,
      pid: process.pid,
      role: 'worker',
      version: 't',
    },
  });
  cleanup.add(() => membership.close());
  const election = await LeaderElection.create({ session, logger, pod: name });
  cleanup.add(() => election.close());
  election.on('elected', () => journal.push('elected'));
  election.on('demoted', (reason) => journal.push(`demoted: ${reason}`));
  return {
    name,
    session,
    membership,
    election,
    claims: new TaskClaims({ session, logger, pod: name }),
    journal,
  };
}

/** Waits until ZooKeeper shows a healthy cluster: every pod registered by its current session, one leader. */
async function assertRecovered(admin: ZkSession, pods: Pod[], timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => {
      if (pods.filter((p) => p.election.isLeader).length !== 1) return false;
      const candidates = sortCandidates(await admin.getChildren(ELECTION));
      if (candidates.length !== pods.length) return false; // no orphans, no one missing
      const paths = candidates.map((c) => `${ELECTION}/${c}`);
      for (const pod of pods) {
        if (!paths.includes(pod.election.candidatePath ?? '?')) return false;
        const stat = await admin.exists(`${NODES}/${pod.name}`);
        if (!stat || pod.session.ownership(stat) !== 'current') return false;
      }
      return true;
    },
    timeoutMs,
    'cluster recovered: one leader, every pod registered and standing exactly once',
  );
  const leader = pods.find((p) => p.election.isLeader);
  assert.equal((await leader?.election.currentLeader())?.pod, leader?.name);
}

async function withCluster(
  t: TestContext,
  body: (ctx: { server: ZookeeperServer; cleanup: Cleanup; admin: ZkSession }) => Promise<void>,
): Promise<void> {
  const cleanup = new Cleanup();
  t.after(() => cleanup.run());
  const server = await startServer(cleanup);
  const admin = await openSession(cleanup, server, LOG, 'admin', { sessionTimeoutMs: 10_000 });
  await body({ server, cleanup, admin });
}

async function claimOne(admin: ZkSession, pod: Pod, task: string): Promise<Claim> {
  await admin.ensurePath(task.slice(0, task.lastIndexOf('/')));
  await admin.create(task, '{}');
  const claim = await pod.claims.claim(task);
  assert.ok(claim);
  return claim;
}

describe('coordination under ZooKeeper faults', () => {
  it('a hung connection is dropped and the same session resumes over a new one', async (t) => {
    await withCluster(t, async ({ server, cleanup }) => {
      const proxy = await TcpProxy.start(server.host, server.port);
      cleanup.add(() => proxy.close());
      const a = await startPod(cleanup, proxy, 'a', 3_000);
      const session = a.session.sessionId;
      proxy.freeze();
      await nextEvent(a.election, 'demoted', 3_000);
      // The watchdog drops the stalled socket; the library reconnects through a fresh one.
      await nextEvent(a.election, 'elected', 3_000);
      assert.equal(a.session.sessionId, session);
      assert.ok(
        a.journal.some((e) => e.startsWith('suspended: watchdog')),
        a.journal.join('; '),
      );
      assert.ok(!a.journal.includes('renewed'));
    });
  });

  it('a partition longer than the session timeout: the library reports expiry, pods renew and re-register', async (t) => {
    await withCluster(t, async ({ server, cleanup, admin }) => {
      const proxy = await TcpProxy.start(server.host, server.port);
      cleanup.add(() => proxy.close());
      // 6 s leaves the server's expiry (≤ T + a tick after the last ping) well ahead of the
      // pods' own verdict (≥ T/3 + T), so the healed link brings the server's answer first.
      const a = await startPod(cleanup, proxy, 'a', 6_000);
      const b = await startPod(cleanup, proxy, 'b', 6_000);
      assert.ok(a.election.isLeader);
      const claim = await claimOne(admin, a, '/jobs/p/histograms/task_0');
      await admin.create('/cfg', 'v1');
      const seen: string[] = [];
      const stop = b.session.watchData('/cfg', (s) => seen.push(s?.data.toString() ?? 'none'));
      cleanup.add(stop);
      const old = [a.session.sessionId, b.session.sessionId];

      const cutAt = Date.now();
      proxy.partition();
      await nextEvent(a.election, 'demoted', 6_000);
      assert.ok(
        Date.now() - cutAt < 6_000,
        'the leader stepped down before its session could expire',
      );
      await waitUntil(
        async () => (await admin.getChildren(NODES)).length === 0,
        8_000,
        'the server expired both sessions (their members vanished)',
      );
      proxy.heal();
      await Promise.all([
        nextEvent(a.session, 'renewed', 10_000),
        nextEvent(b.session, 'renewed', 10_000),
      ]);
      for (const pod of [a, b]) {
        assert.ok(
          pod.journal.includes('expired: ZooKeeper reported the session expired'),
          pod.journal.join('; '),
        );
      }
      assert.notDeepEqual([a.session.sessionId, b.session.sessionId], old);

      await assertRecovered(admin, [a, b], 5_000);
      await admin.setData('/cfg', 'v2');
      await waitUntil(() => seen.at(-1) === 'v2', 2_000, 'the watch works on the new session');
      await assert.rejects(a.claims.complete(claim, { pointer: 'x', checksum: 'y' }), (err) => {
        return errorCode(err) === 'LOST_CLAIM';
      });
      // The old session's lock went with it: the task is free for the next attempt.
      assert.equal(await admin.exists(`${claim.taskPath}/lock`), null);
      assert.equal((await b.claims.claim(claim.taskPath))?.attempt, 2);
    });
  });

  it('a SIGSTOPped server past the session timeout: the watchdog suspends, expires and renews', async (t) => {
    await withCluster(t, async ({ server, cleanup, admin }) => {
      const a = await startPod(cleanup, server, 'a', 2_000);
      const b = await startPod(cleanup, server, 'b', 2_000);
      const claim = await claimOne(admin, b, '/jobs/s/equalize/task_0');
      const pausedAt = Date.now();
      server.pause();
      await nextEvent(a.election, 'demoted', 2_000);
      assert.ok(Date.now() - pausedAt < 2_000, 'demoted at once, not after the session timeout');
      await waitUntil(
        () => a.session.state === 'expired' && b.session.state === 'expired',
        6_000,
        'both sessions given up as expired while the server is stopped',
      );
      server.resume();
      await waitUntil(
        () => [a, b].every((p) => p.journal.includes('renewed')),
        10_000,
        'both sessions renewed after SIGCONT',
      );
      assert.ok(
        a.journal.some((e) => e.startsWith('suspended: watchdog')),
        a.journal.join('; '),
      );
      assert.ok(
        a.journal.some((e) => e.startsWith('expired: no answer from ZooKeeper')),
        a.journal.join('; '),
      );
      await assertRecovered(admin, [a, b], 8_000);
      await assert.rejects(b.claims.complete(claim, { pointer: 'x', checksum: 'y' }), (err) => {
        return errorCode(err) === 'LOST_CLAIM';
      });
    });
  });

  it('a short stall demotes the leader at once; the same session comes back and leads again', async (t) => {
    await withCluster(t, async ({ server, cleanup, admin }) => {
      const a = await startPod(cleanup, server, 'a', 3_000);
      const b = await startPod(cleanup, server, 'b', 3_000);
      const [session, candidate] = [a.session.sessionId, a.election.candidatePath];
      server.pause();
      try {
        await nextEvent(a.election, 'demoted', 3_000);
        assert.throws(
          () => a.election.fence(),
          (err) => errorCode(err) === 'NOT_MASTER',
        );
      } finally {
        server.resume();
      }
      await nextEvent(a.election, 'elected', 3_000);
      assert.equal(a.session.sessionId, session);
      assert.equal(a.election.candidatePath, candidate);
      assert.ok(!a.journal.includes('renewed') && !b.journal.includes('renewed'));
      await assertRecovered(admin, [a, b], 3_000);
    });
  });

  it('a ZooKeeper restart within the session timeout keeps every session', async (t) => {
    await withCluster(t, async ({ server, cleanup, admin }) => {
      const a = await startPod(cleanup, server, 'a', 6_000);
      const b = await startPod(cleanup, server, 'b', 6_000);
      const before = [a.session.sessionId, b.session.sessionId];
      const candidates = [a.election.candidatePath, b.election.candidatePath];
      const started = Date.now();
      await server.restart();
      assert.ok(Date.now() - started < 6_000, 'restart fits in the session timeout');
      await waitUntil(
        () =>
          a.session.state === 'connected' && b.session.state === 'connected' && a.election.isLeader,
        6_000,
        'reconnected and leading again',
      );
      assert.deepEqual([a.session.sessionId, b.session.sessionId], before);
      assert.deepEqual([a.election.candidatePath, b.election.candidatePath], candidates);
      assert.ok(
        a.journal.some((e) => e.startsWith('suspended')),
        'the restart was noticed',
      );
      assert.ok(!a.journal.includes('renewed') && !b.journal.includes('renewed'));
      await assertRecovered(admin, [a, b], 3_000);
    });
  });

  it('ZooKeeper down longer than the session timeout: renewal replaces the leftovers of old sessions', async (t) => {
    await withCluster(t, async ({ server, cleanup, admin }) => {
      const a = await startPod(cleanup, server, 'a', 2_000);
      const b = await startPod(cleanup, server, 'b', 2_000);
      await server.kill();
      await waitUntil(
        () => a.session.state === 'expired' && b.session.state === 'expired',
        6_000,
        'sessions given up while the server is down',
      );
      // The restarted server restores the old sessions (and their ephemerals) for a while.
      await server.restart();
      await waitUntil(
        () => [a, b].every((p) => p.journal.includes('renewed')),
        15_000,
        'both sessions renewed',
      );
      await admin.waitFor('connected', 10_000);
      await assertRecovered(admin, [a, b], 8_000);
    });
  });
});
