import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { waitForCreation, type ZkSession } from '../coordination/index.js';
import { BackupDaemon, type BackupAck } from './backup-daemon.js';
import { since } from './narration.js';
import type { DemoReport } from './result.js';
import { DEMOS_ROOT, type DemoRuntime } from './runtime.js';

export const PRIMARY_BACKUP_ROOT = `${DEMOS_ROOT}/primary-backup`;

export interface PrimaryBackupOptions {
  /** Run without the backup: the primary must time out and roll back. */
  backupDown: boolean;
  /** How long the primary waits for the acknowledgement; default 2000 ms. */
  timeoutMs: number;
}

export const PRIMARY_BACKUP_DEFAULTS = { timeoutMs: 2_000 } as const;

export interface PrimaryBackupReport extends DemoReport {
  demo: 'primary-backup';
  backupRunning: boolean;
  timeoutMs: number;
  txn: { path: string; payload: TxnPayload };
  acknowledged: boolean;
  /** From sending the transaction to seeing the backup's ack; null when none came. */
  latencyMs: number | null;
  ack: BackupAck | null;
  committed: boolean;
  rolledBack: boolean;
  /** Whether the backup's file holds exactly the bytes the primary sent. */
  backupCopyMatches: boolean | null;
}

interface TxnPayload {
  op: 'set';
  key: string;
  value: string;
  primary: string;
}

const GUARANTEE =
  'A transaction counts as committed only once the backup has persisted and acknowledged it.';

/** `histeq demo primary-backup`: a primary, a backup daemon, an ack on a watch, a timeout. */
export async function runPrimaryBackup(
  rt: DemoRuntime,
  options: PrimaryBackupOptions,
): Promise<PrimaryBackupReport> {
  const say = rt.narrator;
  say.phase(`synchronous primary-backup replication (ack timeout ${options.timeoutMs} ms)`);
  const primary = await rt.openSession('primary');
  await rt.removeDemoTree(PRIMARY_BACKUP_ROOT); // leftovers of an interrupted run
  await primary.ensurePath(PRIMARY_BACKUP_ROOT);
  const dir = await mkdtemp(join(tmpdir(), 'histeq-backup-'));
  let backup: BackupDaemon | null = null;
  const cleanUp = rt.defer('remove the primary-backup demo state', async () => {
    await backup?.stop();
    await rt.removeDemoTree(PRIMARY_BACKUP_ROOT);
    await rm(dir, { recursive: true, force: true });
  });
  try {
    if (options.backupDown) {
      say.warn('backup', 'is down (--backup-down): nobody will acknowledge');
    } else {
      const session = await rt.openSession('backup');
      backup = new BackupDaemon({ session, root: PRIMARY_BACKUP_ROOT, dir, narrator: say });
      say.say('backup', `up with its own session ${session.sessionId}; local disk ${dir}`);
    }
    const report = await replicate(rt, primary, options, backup !== null, dir);
    await cleanUp();
    say.say('demo', `cleaned up ${PRIMARY_BACKUP_ROOT} and the backup's disk`);
    if (report.ok) say.good('demo', report.verdict);
    else say.bad('demo', report.verdict);
    return report;
  } finally {
    await cleanUp();
  }
}

async function replicate(
  rt: DemoRuntime,
  primary: ZkSession,
  options: PrimaryBackupOptions,
  backupRunning: boolean,
  dir: string,
): Promise<PrimaryBackupReport> {
  const say = rt.narrator;
  const payload: TxnPayload = {
    op: 'set',
    key: 'greeting',
    value: `hello at ${new Date().toISOString()}`,
    primary: primary.sessionId,
  };
  const bytes = JSON.stringify(payload);
  const sentAt = performance.now();
  // Sequential names order the log; the library never retries creates.
  const path = await primary.create(`${PRIMARY_BACKUP_ROOT}/txn-`, bytes, 'persistent_sequential');
  const txn = path.slice(path.lastIndexOf('/') + 1);
  say.say('primary', `wrote ${txn} ${bytes} (pending; ZooKeeper took ${since(sentAt)} ms)`);
  say.say('primary', `waiting on a watch for ${txn}/ack (up to ${options.timeoutMs} ms)…`);
  const acked = await waitForCreation(primary, `${path}/ack`, options.timeoutMs);
  const latencyMs = acked ? since(sentAt) : null;

  let ack: BackupAck | null = null;
  let committed = false;
  let rolledBack = false;
  let backupCopyMatches: boolean | null = null;
  if (acked) {
    ack = JSON.parse((await primary.getData(`${path}/ack`)).data.toString('utf8')) as BackupAck;
    say.good(
      'primary',
      `${txn} acknowledged after ${latencyMs} ms (backup fsync took ${ack.persistMs} ms)`,
    );
    const sha = createHash('sha256').update(bytes).digest('hex');
    // Commit = mark the log entry committed; version 0 proves nobody touched it meanwhile.
    await primary.setData(path, JSON.stringify({ ...payload, committed: true }), 0);
    committed = true;
    say.good('primary', `${txn} committed: ${payload.key} = "${payload.value}"`);
    const onDisk = await readFile(join(dir, `${txn}.json`)).catch(() => null);
    backupCopyMatches =
      onDisk !== null &&
      createHash('sha256').update(onDisk).digest('hex') === sha &&
      ack.sha256 === sha;
    if (backupCopyMatches) say.good('primary', "the backup's file holds exactly the bytes sent");
    else say.bad('primary', "the backup's file does not match what was sent");
  } else {
    say.warn('primary', `no acknowledgement within ${options.timeoutMs} ms: rolling ${txn} back`);
    await primary.removeTree(path);
    rolledBack = (await primary.exists(path)) === null;
    if (rolledBack)
      say.good('primary', `${txn} removed; reported to the client as NOT acknowledged`);
    else say.bad('primary', `${txn} could not be removed`);
  }
  const ok = acked ? committed && backupCopyMatches === true : rolledBack && !committed;
  const verdict = acked
    ? ok
      ? `The write was acknowledged by the backup in ${latencyMs} ms and committed.`
      : 'The write was committed but the backup copy is wrong.'
    : ok
      ? `The backup did not acknowledge within ${options.timeoutMs} ms, so the write was rolled back, not committed.`
      : 'The unacknowledged write could not be rolled back.';
  return {
    demo: 'primary-backup',
    ok,
    guarantee: GUARANTEE,
    verdict,
    backupRunning,
    timeoutMs: options.timeoutMs,
    txn: { path, payload },
    acknowledged: acked,
    latencyMs,
    ack,
    committed,
    rolledBack,
    backupCopyMatches,
  };
}
