import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  isZkError,
  unlessMissing,
  type StopWatching,
  type ZkSession,
} from '../coordination/index.js';
import { round } from './narration.js';
import type { Narrator } from './narration.js';

/** What the backup writes into `<txn>/ack`: enough for the primary to check the copy. */
export interface BackupAck {
  backup: string;
  file: string;
  bytes: number;
  sha256: string;
  /** Write + fsync of the file and its directory. */
  persistMs: number;
}

export interface BackupDaemonOptions {
  /** The backup's own session: it shares nothing with the primary but ZooKeeper. */
  session: ZkSession;
  /** Where transactions appear, one child each. */
  root: string;
  /** The backup's "local disk". */
  dir: string;
  narrator: Narrator;
  name?: string;
}

/**
 * The backup of a synchronous primary-backup pair: persists each new transaction to its own
 * disk (fsync'ed, so the ack means "survives a crash") and only then acknowledges it. A
 * transaction the primary rolls back (its znode vanishes) is deleted from disk too.
 */
export class BackupDaemon {
  readonly #o: Required<BackupDaemonOptions>;
  readonly #persisted = new Set<string>();
  readonly #stop: StopWatching;
  #queue: Promise<void> = Promise.resolve();

  constructor(options: BackupDaemonOptions) {
    this.#o = { name: 'backup', ...options };
    // Woken by a children watch on the log, never by polling.
    this.#stop = options.session.watchChildren(options.root, (children) => {
      const txns = children ?? [];
      this.#queue = this.#queue
        .then(() => this.#reconcile(txns))
        .catch((err: unknown) => {
          this.#o.narrator.warn(this.#o.name, `could not persist: ${String(err)}`);
        });
    });
  }

  stop(): Promise<void> {
    this.#stop();
    return this.#queue;
  }

  async #reconcile(txns: string[]): Promise<void> {
    for (const txn of txns) {
      if (!this.#persisted.has(txn)) await this.#persist(txn);
    }
    for (const txn of [...this.#persisted]) {
      if (txns.includes(txn)) continue;
      this.#persisted.delete(txn);
      await rm(this.#file(txn), { force: true });
      this.#o.narrator.say(
        this.#o.name,
        `${txn} was rolled back by the primary: deleted it locally`,
      );
    }
  }

  async #persist(txn: string): Promise<void> {
    const { session, root, narrator, name } = this.#o;
    const path = `${root}/${txn}`;
    const found = await unlessMissing(session.getData(path), null);
    if (!found) return; // rolled back before we got to it
    const { data } = found;
    const file = this.#file(txn);
    const startedAt = performance.now();
    await writeDurably(file, data);
    const persistMs = round(performance.now() - startedAt);
    this.#persisted.add(txn);
    narrator.say(
      name,
      `persisted ${txn} to ${file} (${data.length} bytes, fsync'ed in ${persistMs} ms)`,
    );
    const ack: BackupAck = {
      backup: name,
      file,
      bytes: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
      persistMs,
    };
    try {
      await session.create(`${path}/ack`, JSON.stringify(ack));
      narrator.say(name, `acknowledged ${txn}`);
    } catch (err) {
      // Rolled back meanwhile: the next children event deletes the file.
      if (!isZkError(err, 'NO_NODE', 'NODE_EXISTS')) throw err;
    }
  }

  #file(txn: string): string {
    return join(this.#o.dir, `${txn}.json`);
  }
}

/** Temp file, fsync, rename, fsync the directory: after this returns a crash cannot lose it. */
async function writeDurably(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  const dir = await open(join(file, '..'), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
