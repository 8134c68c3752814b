import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  isZkError,
  maxDataBytes,
  ZK_MAX_REQUEST_BYTES,
  ZkError,
  type ZkDataSnapshot,
  type ZkSession,
} from '../../src/coordination/index.js';
import { zookeeperJarsAvailable } from '../../src/local/zookeeper-jars.js';
import { ZookeeperServer } from '../../src/local/zookeeper-server.js';
import { Cleanup, openSession, startServer, waitUntil } from '../support/zk.js';

const LOG = 'coordination';

describe('ZooKeeper launcher and session operations', () => {
  const cleanup = new Cleanup();
  let server: ZookeeperServer;
  let zk: ZkSession;

  before(async () => {
    server = await startServer(cleanup);
    zk = await openSession(cleanup, server, LOG, 'ops');
  });
  after(() => cleanup.run());

  it('runs a real standalone server from the Debian jars on a free loopback port', async () => {
    assert.ok(zookeeperJarsAvailable());
    assert.match(server.connectionString, /^127\.0\.0\.1:\d+$/);
    assert.match(await server.fourLetterWord('srvr'), /Mode: standalone/);
    assert.equal(zk.state, 'connected');
    assert.match(zk.sessionId, /^[0-9a-f]{16}$/);
    assert.equal(zk.sessionTimeoutMs, 2_000, 'the server honours a 2 s session timeout');
  });

  it('creates, reads, updates and removes nodes with versions', async () => {
    await zk.ensurePath('/crud/a/b');
    // Concurrent mkdir -p of the same path must not fail on NODE_EXISTS races.
    await Promise.all(Array.from({ length: 5 }, () => zk.ensurePath('/crud/x/y/z')));
    assert.equal(await zk.create('/crud/a/b/n', '{"v":1}'), '/crud/a/b/n');
    const read = await zk.getData('/crud/a/b/n');
    assert.equal(read.data.toString(), '{"v":1}');
    assert.equal(read.stat.version, 0);
    const stat = await zk.setData('/crud/a/b/n', 'two', 0);
    assert.equal(stat.version, 1);
    await assert.rejects(zk.setData('/crud/a/b/n', 'three', 0), (err) => {
      assert.ok(isZkError(err, 'BAD_VERSION'));
      assert.equal(err.code, 'ZK_ERROR');
      return true;
    });
    await assert.rejects(zk.create('/crud/a/b/n'), (err) => isZkError(err, 'NODE_EXISTS'));
    await assert.rejects(zk.getData('/crud/none'), (err) => {
      assert.ok(isZkError(err, 'NO_NODE'));
      assert.equal(err.code, 'NOT_FOUND');
      return true;
    });
    assert.equal(await zk.exists('/crud/none'), null);
    const seq = await zk.create('/crud/s_', undefined, 'ephemeral_sequential');
    assert.match(seq, /^\/crud\/s_\d{10}$/);
    assert.deepEqual((await zk.getChildren('/crud')).sort(), ['a', seq.slice(6), 'x'].sort());
    await assert.rejects(zk.remove('/crud/a/b/n', 0), (err) => isZkError(err, 'BAD_VERSION'));
    await zk.remove('/crud/a/b/n', 1);
    assert.equal(await zk.exists('/crud/a/b/n'), null);
    await assert.rejects(zk.create('/bad path/'), (err) => isZkError(err, 'BAD_ARGUMENTS'));
  });

  it('commits multi-ops atomically and names the op that failed', async () => {
    await zk.ensurePath('/multi');
    const results = await zk
      .multi()
      .create('/multi/a', 'a')
      .create('/multi/b', 'b')
      .setData('/multi/a', 'a2', 0)
      .check('/multi/b', 0)
      .commit();
    assert.deepEqual(
      results.map((r) => r.op),
      ['create', 'create', 'setData', 'check'],
    );
    const set = results[2];
    assert.ok(set?.op === 'setData' && set.stat.version === 1);

    // Version 0 must really be checked (the library alone would send -1, "any version").
    await assert.rejects(
      zk.multi().create('/multi/c').check('/multi/a', 0).commit(),
      (err: unknown) => {
        assert.ok(err instanceof ZkError && err.zkCode === 'BAD_VERSION');
        assert.deepEqual(err.failedOp, { index: 1, op: 'check', path: '/multi/a' });
        assert.match(err.message, /op #1 \(check \/multi\/a\)/);
        return true;
      },
    );
    assert.equal(await zk.exists('/multi/c'), null, 'nothing of a refused multi-op applies');
    await assert.rejects(
      zk.multi().setData('/multi/b', 'x', 0).remove('/multi/a', 0).commit(),
      (err: unknown) => err instanceof ZkError && err.failedOp?.index === 1,
    );
    assert.equal((await zk.getData('/multi/b')).data.toString(), 'b');
  });

  it('removes a whole tree bottom-up and tolerates missing nodes', async () => {
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 8; j++) await zk.ensurePath(`/tree/t${i}/u${j}/leaf`);
    }
    await zk.create('/tree/eph', 'x', 'ephemeral');
    await zk.removeTree('/tree');
    assert.equal(await zk.exists('/tree'), null);
    await zk.removeTree('/tree'); // already gone: not an error
  });

  it('refuses data over 1 MiB clearly and stays usable', async () => {
    await zk.ensurePath('/big');
    // The largest payload the server takes for this path (it drops the connection above it).
    const largest = maxDataBytes('/big/max');
    assert.ok(largest > 1_048_000 && largest < 1_048_576);
    await zk.create('/big/max', Buffer.alloc(largest));
    const isTooLarge = (err: unknown): boolean => {
      assert.ok(isZkError(err, 'DATA_TOO_LARGE'));
      assert.equal(err.code, 'ZK_DATA_TOO_LARGE');
      assert.match(err.message, /over ZooKeeper's 1048575-byte \(1 MiB\) limit/);
      return true;
    };
    await assert.rejects(zk.create('/big/over', Buffer.alloc(1024 * 1024 + 1)), isTooLarge);
    await assert.rejects(zk.create('/big/over', Buffer.alloc(largest + 1)), isTooLarge);
    await assert.rejects(zk.setData('/big/max', Buffer.alloc(ZK_MAX_REQUEST_BYTES)), isTooLarge);
    await assert.rejects(
      zk
        .multi()
        .create('/big/m1', Buffer.alloc(600_000))
        .setData('/big/max', Buffer.alloc(600_000))
        .commit(),
      isTooLarge,
    );
    assert.equal(zk.state, 'connected');
    assert.equal((await zk.exists('/big/max'))?.dataLength, largest);
    await zk.removeTree('/big');
  });

  it('re-arms data and children watches after every change', async () => {
    const values: (string | null)[] = [];
    const stopData = zk.watchData('/watched', (s: ZkDataSnapshot | null) =>
      values.push(s ? s.data.toString() : null),
    );
    const lists: string[][] = [];
    const stopChildren = zk.watchChildren('/watched', (c) => lists.push(c ? [...c].sort() : []));
    const last = <T>(list: T[]): T | undefined => list[list.length - 1];
    await waitUntil(() => values.length === 1, 2_000, 'initial read');
    assert.equal(values[0], null);
    await zk.create('/watched', 'one');
    await waitUntil(() => last(values) === 'one', 2_000, 'creation seen');
    for (const value of ['two', 'three', 'four']) {
      await zk.setData('/watched', value);
      await waitUntil(() => last(values) === value, 2_000, `change to ${value} seen`);
    }
    await zk.create('/watched/c1');
    await zk.create('/watched/c2');
    await waitUntil(() => last(lists)?.join() === 'c1,c2', 2_000, 'children seen');
    await zk.removeTree('/watched');
    await waitUntil(() => last(values) === null, 2_000, 'deletion seen');
    stopData();
    stopChildren();
    const count = values.length;
    await zk.create('/watched', 'after-stop');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(values.length, count, 'a stopped watch stays silent');
    await zk.remove('/watched');
  });

  it('a children watch that ends on deletion reports it once, with no read', async () => {
    // The watcher is a session of its own: the writer's reads do not count.
    const watcher = await openSession(cleanup, server, LOG, 'watcher');
    const reads = () => (watcher.operations.getChildren ?? 0) + (watcher.operations.exists ?? 0);
    for (const round of [1, 2, 3]) {
      const path = `/ending-${round}`;
      await zk.create(path);
      const lists: (string[] | null)[] = [];
      watcher.watchChildren(path, (c) => lists.push(c), { endOnDeletion: true });
      await waitUntil(() => lists.length === 1, 2_000, 'initial read');
      for (let i = 0; i < round; i++) await zk.create(`${path}/c${i}`);
      await waitUntil(() => lists.at(-1)?.length === round, 2_000, 'children seen');
      // Removed with its children in one transaction, as a job's task folders go: ZooKeeper
      // reports a change of children (the first removal), and one read finds the node gone.
      const before = reads();
      await zk.commit([
        ...Array.from({ length: round }, (_, i) => ({
          op: 'remove' as const,
          path: `${path}/c${i}`,
        })),
        { op: 'remove', path },
      ]);
      await waitUntil(() => lists.at(-1) === null, 2_000, 'deletion seen');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(reads(), before + 1, 'one read, and no watch for the node to return');
      const count = lists.length;
      await zk.create(path);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(lists.length, count, 'ended: a node created again is not followed');
      assert.equal(reads(), before + 1, 'nor read');
      await zk.remove(path);
    }
    // Removed with nothing under it: ZooKeeper reports the deletion itself, and nothing is read.
    await zk.create('/ending-empty');
    const lists: (string[] | null)[] = [];
    watcher.watchChildren('/ending-empty', (c) => lists.push(c), { endOnDeletion: true });
    await waitUntil(() => lists.length === 1, 2_000, 'initial read');
    const before = reads();
    await zk.remove('/ending-empty');
    await waitUntil(() => lists.at(-1) === null, 2_000, 'deletion seen');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(reads(), before, 'no read at all');
    // Not seen yet: a missing node is waited for as usual.
    const later: (string[] | null)[] = [];
    watcher.watchChildren('/ending-later', (c) => later.push(c), { endOnDeletion: true });
    await waitUntil(() => later.length === 1, 2_000, 'initial read');
    await zk.create('/ending-later');
    await zk.create('/ending-later/c');
    await waitUntil(() => later.at(-1)?.join() === 'c', 2_000, 'creation and child seen');
    await zk.removeTree('/ending-later');
  });

  it('closing a session removes its ephemeral nodes at once', async () => {
    const other = await openSession(cleanup, server, LOG, 'short-lived');
    await zk.ensurePath('/eph');
    await other.create('/eph/mine', 'x', 'ephemeral');
    const stat = await zk.exists('/eph/mine');
    assert.ok(stat);
    assert.equal(zk.ownership(stat), 'other');
    assert.equal(other.ownership(stat), 'current');
    await other.close();
    await other.close(); // idempotent
    assert.equal(other.state, 'closed');
    assert.equal(await zk.exists('/eph/mine'), null);
    await assert.rejects(other.exists('/'), (err) => isZkError(err, 'SESSION_CLOSED'));
  });
});

describe('ZookeeperServer launcher failures', () => {
  it('fails clearly, with the server log, when the port is taken', async () => {
    const cleanup = new Cleanup();
    try {
      const first = await startServer(cleanup);
      await assert.rejects(
        ZookeeperServer.start({ port: first.port, startTimeoutMs: 15_000 }),
        (err: unknown) => {
          assert.ok(err instanceof Error);
          assert.match(err.message, /did not start/);
          assert.match(err.message, /Last log lines/);
          return true;
        },
      );
    } finally {
      await cleanup.run();
    }
  });
});
