import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ZkSession } from '../../src/coordination/index.js';
import type { EventualReport } from '../../src/demos/eventual.js';
import type { PrimaryBackupReport } from '../../src/demos/primary-backup.js';
import type { QuorumReport } from '../../src/demos/quorum.js';
import type { DemoEnvironment } from '../../src/demos/result.js';
import { PARAMS_PATH } from '../../src/jobs/paths.js';
import type { ZookeeperServer } from '../../src/local/zookeeper-server.js';
import { CLI } from '../support/paths.js';
import { Cleanup, openSession, startServer } from '../support/zk.js';

const exec = promisify(execFile);
const cleanup = new Cleanup();
let server: ZookeeperServer;
let zk: ZkSession;

before(async () => {
  server = await startServer(cleanup);
  zk = await openSession(cleanup, server, 'demos', 'test');
});
after(() => cleanup.run());

interface Run<T> {
  code: number;
  result: T;
  stderr: string;
}

/** `histeq demo … --json` as a child process; every run is bounded. */
async function demo<T>(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<Run<T>> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ZK_HOSTS: server.connectionString, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  let out: { stdout: string; stderr: string; code: number };
  try {
    const { stdout, stderr } = await exec('node', [CLI, 'demo', ...args, '--json'], {
      env: childEnv,
      timeout: 30_000,
    });
    out = { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    out = { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
  const lines = out.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line on stdout, got:\n${out.stdout}\n${out.stderr}`);
  return { code: out.code, result: JSON.parse(lines[0] as string) as T, stderr: out.stderr };
}

/** The demo removed its subtree and released its lock (other demos may run meanwhile). */
async function assertCleanedUp(demoName: string, subtree: string | null): Promise<void> {
  if (subtree) assert.equal(await zk.exists(subtree), null, `${subtree} was removed`);
  assert.equal(await zk.exists(`/demos/locks/${demoName}`), null, 'the run lock was released');
}

// One demo at a time: run side by side on a loaded 2-core CI machine, a demo's sessions could
// miss their connect deadline and exit 2 ("could not run"), which is not what is tested here.
describe('histeq demo', { concurrency: 1 }, () => {
  describe('histeq demo eventual', { concurrency: 1 }, () => {
    it('converges every watcher to the single write, then deletes the node it created', async () => {
      const { code, result, stderr } = await demo<EventualReport>([
        'eventual',
        '--tasks-per-job',
        '6',
      ]);
      assert.equal(code, 0, stderr);
      assert.equal(result.ok, true);
      assert.equal(result.previous.existed, false);
      assert.deepEqual(result.final.params, { tasks_per_job: 6 });
      assert.equal(result.watchers.length, 3);
      for (const w of result.watchers) {
        assert.equal(w.converged, true);
        assert.equal(w.finalVersion, result.final.version);
        assert.deepEqual(w.finalParams, { tasks_per_job: 6 });
        assert.equal(typeof w.convergenceMs, 'number');
      }
      assert.equal(result.restored, 'deleted');
      assert.equal(await zk.exists(PARAMS_PATH), null);
      assert.equal(await zk.exists('/config'), null, 'the parent it created is gone too');
      await assertCleanedUp('eventual', null);
    });

    it('with --writes, caches may skip versions but all end at the last write; restores the old bytes', async () => {
      const previous = '{"tasks_per_job":7,"note":"kept"}';
      await zk.ensurePath('/config');
      await zk.create(PARAMS_PATH, previous);
      try {
        const { code, result } = await demo<EventualReport>([
          'eventual',
          '--writes',
          '20',
          '--watchers',
          '4',
        ]);
        assert.equal(code, 0);
        assert.equal(result.ok, true);
        assert.equal(result.writes.length, 20);
        const written = result.writes.map((w) => w.version);
        assert.deepEqual(
          written,
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        assert.deepEqual(result.final.params, { tasks_per_job: 27, note: 'kept' });
        assert.equal(result.watchers.length, 4);
        for (const w of result.watchers) {
          assert.equal(w.converged, true);
          assert.ok(w.versionsSeen.length >= 1 && w.versionsSeen.length <= 20);
          assert.equal(w.versionsSeen.at(-1), 20, 'the last version seen is the last write');
          assert.ok(
            w.versionsSeen.every((v, i, a) => i === 0 || v > (a[i - 1] as number)),
            'never back',
          );
          assert.ok(w.versionsSeen.every((v) => written.includes(v)));
          assert.equal(w.versionsSkipped.length, 20 - w.versionsSeen.length);
          assert.deepEqual(w.finalParams, { tasks_per_job: 27, note: 'kept' });
        }
        assert.equal(result.restored, 'previous');
        const now = await zk.getData(PARAMS_PATH);
        assert.equal(now.data.toString('utf8'), previous);
      } finally {
        await zk.removeTree('/config');
      }
      await assertCleanedUp('eventual', null);
    });

    it('refuses, before writing, a value the pods schema would ignore', async () => {
      const { code, result } = await demo<{ ok: boolean; error: string }>([
        'eventual',
        '--tasks-per-job',
        '5000',
      ]);
      assert.equal(code, 2);
      assert.equal(result.ok, false);
      assert.match(result.error, /tasks_per_job/);
      assert.equal(await zk.exists(PARAMS_PATH), null);
    });
  });

  describe('histeq demo primary-backup', { concurrency: 1 }, () => {
    it('commits a write once the backup persisted and acknowledged it', async () => {
      const { code, result } = await demo<PrimaryBackupReport>(['primary-backup']);
      assert.equal(code, 0);
      assert.equal(result.ok, true);
      assert.equal(result.backupRunning, true);
      assert.equal(result.acknowledged, true);
      assert.equal(result.committed, true);
      assert.equal(result.rolledBack, false);
      assert.equal(result.backupCopyMatches, true);
      assert.ok(result.latencyMs !== null && result.latencyMs < result.timeoutMs);
      assert.match(result.txn.path, /^\/demos\/primary-backup\/txn-\d{10}$/);
      assert.ok(result.ack && result.ack.bytes > 0);
      await assertCleanedUp('primary-backup', '/demos/primary-backup');
    });

    it('--backup-down: times out, rolls the write back and reports it unacknowledged (exit 0)', async () => {
      const started = Date.now();
      const { code, result } = await demo<PrimaryBackupReport>([
        'primary-backup',
        '--backup-down',
        '--timeout-ms',
        '600',
      ]);
      assert.equal(code, 0, 'the guarantee held: nothing unacknowledged was committed');
      assert.equal(result.ok, true);
      assert.equal(result.backupRunning, false);
      assert.equal(result.acknowledged, false);
      assert.equal(result.latencyMs, null);
      assert.equal(result.committed, false);
      assert.equal(result.rolledBack, true);
      assert.ok(Date.now() - started >= 600);
      await assertCleanedUp('primary-backup', '/demos/primary-backup');
    });
  });

  describe('histeq demo quorum', { concurrency: 1 }, () => {
    it('N=5 W=3 R=3: commits with W acks and reads the newest version, repairing stale replicas', async () => {
      const { code, result } = await demo<QuorumReport>(['quorum', '--seed', '1']);
      assert.equal(code, 0);
      assert.equal(result.ok, true);
      assert.deepEqual([result.n, result.w, result.r], [5, 3, 3]);
      assert.equal(result.write.committed, true);
      assert.equal(result.write.acks.length, 5);
      assert.equal(result.write.writeSet.length, 3);
      assert.equal(result.read.readSet.length, 3);
      assert.equal(result.read.returnedVersion, 2);
      assert.equal(result.read.returnedValue, 'updated');
      for (const name of result.read.readSet) {
        const replica = result.replicas.find((r) => r.name === name);
        assert.equal(replica?.version, 2, `${name} was read, so it is repaired`);
      }
      const stale = Object.entries(result.read.versionsRead).filter(([, v]) => v < 2);
      assert.deepEqual(result.read.repaired.sort(), stale.map(([name]) => name).sort());
      await assertCleanedUp('quorum', '/demos/quorum');
    });

    it('--down 2 (N−K ≥ W): the write commits and a later read returns it', async () => {
      const { code, result } = await demo<QuorumReport>(['quorum', '--down', '2', '--seed', '2']);
      assert.equal(code, 0);
      assert.deepEqual(result.downReplicas, ['replica_4', 'replica_5']);
      assert.equal(result.write.committed, true);
      assert.deepEqual(result.write.acks.sort(), ['replica_1', 'replica_2', 'replica_3']);
      assert.equal(result.read.returnedVersion, 2);
      assert.equal(result.partialWriteVisible, false);
      await assertCleanedUp('quorum', '/demos/quorum');
    });

    it('--down 3 (N−K < W): the write is refused and no replica changed', async () => {
      const { code, result } = await demo<QuorumReport>(['quorum', '--down', '3', '--r', '2']);
      assert.equal(code, 0, 'refusing is the guarantee holding');
      assert.equal(result.ok, true);
      assert.equal(result.write.committed, false);
      assert.equal(result.write.refused, true);
      assert.equal(result.write.acks.length, 2);
      assert.equal(result.partialWriteVisible, false);
      assert.ok(result.replicas.every((r) => r.version === 1 && !r.pending));
      assert.equal(
        result.read.returnedVersion,
        1,
        'a read sees the old value, never a partial write',
      );
      await assertCleanedUp('quorum', '/demos/quorum');
    });

    it('R + W ≤ N: warns and demonstrates a stale read (exit 1)', async () => {
      const { code, result } = await demo<QuorumReport>(['quorum', '--w', '2', '--r', '2']);
      assert.equal(code, 1);
      assert.equal(result.ok, false);
      assert.equal(result.overlapGuaranteed, false);
      assert.match(result.warning ?? '', /R \+ W = 4 ≤ N = 5/);
      assert.equal(result.write.committed, true);
      assert.equal(result.staleReadDemonstrated, true);
      assert.equal(result.read.stale, true);
      assert.equal(result.read.returnedVersion, 1);
      assert.ok(result.read.readSet.every((name) => !result.write.writeSet.includes(name)));
      await assertCleanedUp('quorum', '/demos/quorum');
    });

    it('refuses impossible flags with a sentence (exit 2)', async () => {
      const w = await demo<{ error: string }>(['quorum', '--w', '6']);
      assert.equal(w.code, 2);
      assert.match(w.result.error, /--w 6 must be between 1 and --n 5/);
      const down = await demo<{ error: string }>(['quorum', '--n', '3', '--down', '3']);
      assert.equal(down.code, 2);
      assert.match(down.result.error, /--down 3 must be less than --n 3/);
    });
  });

  describe('histeq demo without ZK_HOSTS', { concurrency: 1 }, () => {
    it('starts a temporary ZooKeeper for the run and says so', async () => {
      const { code, result, stderr } = await demo<QuorumReport & DemoEnvironment>(
        ['quorum', '--n', '3', '--w', '2', '--r', '2'],
        {
          ZK_HOSTS: undefined,
        },
      );
      assert.equal(code, 0);
      assert.equal(result.ok, true);
      assert.equal(result.zookeeper.temporary, true);
      assert.notEqual(result.zookeeper.connectionString, server.connectionString);
      assert.match(stderr, /starting a temporary ZooKeeper/);
      assert.match(stderr, /temporary ZooKeeper stopped/);
    });
  });
});
