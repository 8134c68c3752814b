import { errorCode, errorMessage, HisteqError } from '../common/errors.js';
import { isZkError, unlessMissing, type ZkOp, type ZkSession } from '../coordination/index.js';
import { JOBS_PATH, jobPath } from './paths.js';
import { parseJobRecord } from './records.js';
import type { JobRecord } from './types.js';

/** Supplies the master's fencing check (its election candidate) for every write. */
export type Fence = () => ZkOp;

const MAX_VERSION_RETRIES = 10;
/** Records whose last write this store remembers (the master's active jobs, and some). */
const REMEMBERED = 32;

/**
 * Job records in `/jobs/<id>`. Every write is one multi-op with the master's fence, so a pod
 * that lost leadership (even one that does not know it yet) cannot change a job; updates are
 * version-checked read-modify-writes, retried on a concurrent change.
 *
 * The master is the records' only writer, so an update starts from the record and version
 * this store last wrote instead of reading them again: one ZooKeeper operation per progress
 * step instead of two. A stale memory costs nothing but a retry: the write is version-checked,
 * and BAD_VERSION (another master wrote meanwhile) or any error forgets it and reads afresh.
 */
export class JobStore {
  readonly #session: ZkSession;
  readonly #fence: Fence;
  /** id → the record as last written by us (JSON) and its version. */
  readonly #written = new Map<string, { json: string; version: number }>();

  constructor(session: ZkSession, fence: Fence) {
    this.#session = session;
    this.#fence = fence;
  }

  /** Creates the record and, in the same transaction, any extra znodes (e.g. the first tasks). */
  async create(record: JobRecord, extraOps: ZkOp[] = []): Promise<void> {
    await this.#session.ensurePath(JOBS_PATH);
    await this.#session.commit([
      this.#fence(),
      { op: 'create', path: jobPath(record.id), data: JSON.stringify(record), mode: 'persistent' },
      ...extraOps,
    ]);
    this.#remember(record.id, JSON.stringify(record), 0);
  }

  /** Commits `ops` (about a job's znodes, not its record) fenced like every record write. */
  async commit(ops: ZkOp[]): Promise<void> {
    await this.#session.commit([this.#fence(), ...ops]);
  }

  /** Removes a record that has no children yet (an upload refused while it was being split). */
  async remove(id: string): Promise<void> {
    this.#written.delete(id);
    await this.#session.commit([this.#fence(), { op: 'remove', path: jobPath(id) }]);
  }

  /**
   * Removes a finished record for retention, fenced and only at the version the caller judged
   * old enough (BAD_VERSION if it changed meanwhile). Any task folders must be gone first.
   */
  async removeFinished(id: string, version: number): Promise<void> {
    this.#written.delete(id);
    const children = await this.#session.getChildren(jobPath(id)).catch(() => [] as string[]);
    await this.#session.commit([
      this.#fence(),
      ...children.map((c): ZkOp => ({ op: 'remove', path: `${jobPath(id)}/${c}` })),
      { op: 'remove', path: jobPath(id), version },
    ]);
  }

  async read(id: string): Promise<{ record: JobRecord; version: number } | null> {
    const found = await unlessMissing(this.#session.getData(jobPath(id)), null);
    if (!found) return null;
    return { record: parseJobRecord(found.data, jobPath(id)), version: found.stat.version };
  }

  async list(): Promise<JobRecord[]> {
    const ids = await unlessMissing(this.#session.getChildren(JOBS_PATH), []);
    // One malformed record must not hide every other job: it is left out, with a warning.
    const records = await Promise.all(
      ids.map((id) =>
        this.read(id).catch((err: unknown) => {
          if (errorCode(err) !== 'BAD_RECORD') throw err;
          this.#session.logger.warn({ job: id, err: errorMessage(err) }, 'job record left out');
          return null;
        }),
      ),
    );
    return records.flatMap((r) => (r ? [r.record] : []));
  }

  /**
   * Read-modify-write with a version check, plus extra ops in the same transaction. `mutate`
   * may be called again after a concurrent change; it returns null to leave the record alone.
   */
  async update(
    id: string,
    mutate: (record: JobRecord) => JobRecord | null,
    extraOps: (record: JobRecord) => ZkOp[] = () => [],
  ): Promise<JobRecord> {
    for (let attempt = 0; attempt < MAX_VERSION_RETRIES; attempt++) {
      const remembered = this.#recall(id);
      const current = remembered ?? (await this.read(id));
      if (!current) throw new HisteqError('NOT_FOUND', `Job ${id} does not exist.`);
      const next = mutate(current.record);
      if (next === null) {
        // Deciding to do nothing is not version-checked: decide on what is there now.
        if (remembered) {
          this.#written.delete(id);
          attempt--;
          continue;
        }
        return current.record;
      }
      next.updatedAt = new Date().toISOString();
      const json = JSON.stringify(next);
      try {
        await this.#session.commit([
          this.#fence(),
          { op: 'setData', path: jobPath(id), data: json, version: current.version },
          ...extraOps(next),
        ]);
        this.#remember(id, json, current.version + 1);
        return next;
      } catch (err) {
        this.#written.delete(id);
        // Changed by someone else, or gone: the next round reads what is there now.
        if (isZkError(err, 'BAD_VERSION', 'NO_NODE') && err.failedOp?.path === jobPath(id))
          continue;
        throw err;
      }
    }
    throw new HisteqError('INTERNAL', `Job ${id} kept changing while being updated.`);
  }

  /** A fresh copy of what we last wrote (mutate may change it in place). */
  #recall(id: string): { record: JobRecord; version: number } | null {
    const written = this.#written.get(id);
    if (!written) return null;
    // Our own write, checked when it was first read: a plain parse.
    return { record: JSON.parse(written.json) as JobRecord, version: written.version };
  }

  #remember(id: string, json: string, version: number): void {
    this.#written.delete(id); // re-inserted last: the Map's order is the age
    this.#written.set(id, { json, version });
    if (this.#written.size > REMEMBERED) this.#written.delete(this.#written.keys().next().value!);
  }
}
