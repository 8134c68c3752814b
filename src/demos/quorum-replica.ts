import { unlessMissing, type ZkSession } from '../coordination/index.js';

/** A replica's stored value: Gifford's version number plus the data. */
export interface Versioned {
  version: number;
  value: string;
}

/**
 * One replica of the quorum store: a znode it alone writes, through its own session (its
 * "server"), and an ephemeral liveness node that vanishes when it goes down. Writes are
 * two-phase: `prepare` stages the value in an ephemeral `pending` child that readers ignore,
 * `commit` swaps it in atomically (multi-op), `abort` drops it — so a refused write never
 * changes what a replica serves.
 */
export class Replica {
  readonly index: number;
  readonly name: string;
  readonly path: string;
  readonly #livePath: string;
  readonly #session: ZkSession;
  /** The znode version seen at prepare time: commit fails if the replica changed meanwhile. */
  #preparedAt: number | null = null;
  #prepared: Versioned | null = null;

  private constructor(session: ZkSession, root: string, index: number) {
    this.#session = session;
    this.index = index;
    this.name = `replica_${index}`;
    this.path = `${root}/${this.name}`;
    this.#livePath = `${root}/live/${this.name}`;
  }

  /** Starts the replica with `initial` stored, and announces it as live. */
  static async start(
    session: ZkSession,
    root: string,
    index: number,
    initial: Versioned,
  ): Promise<Replica> {
    const replica = new Replica(session, root, index);
    await session.create(replica.path, JSON.stringify(initial));
    await session.create(replica.#livePath, '', 'ephemeral');
    return replica;
  }

  get up(): boolean {
    return !this.#session.closed;
  }

  get sessionId(): string {
    return this.#session.sessionId;
  }

  /** Goes offline: closing the session answers nothing more and drops the liveness node. */
  async goDown(): Promise<void> {
    await this.#session.close();
  }

  /** Phase 1: stage the value; resolving is this replica's acknowledgement. */
  async prepare(value: Versioned): Promise<void> {
    const { stat } = await this.#session.getData(this.path);
    await this.#session.create(`${this.path}/pending`, JSON.stringify(value), 'ephemeral');
    this.#preparedAt = stat.version;
    this.#prepared = value;
  }

  /** Phase 2: the staged value becomes the replica's value, in one atomic multi-op. */
  async commit(): Promise<void> {
    if (!this.#prepared || this.#preparedAt === null)
      throw new Error(`${this.name}: nothing prepared`);
    await this.#session
      .multi()
      .setData(this.path, JSON.stringify(this.#prepared), this.#preparedAt)
      .remove(`${this.path}/pending`)
      .commit();
    this.#prepared = null;
    this.#preparedAt = null;
  }

  /** Drops a staged value; the stored one never changed. */
  async abort(): Promise<void> {
    this.#prepared = null;
    this.#preparedAt = null;
    await unlessMissing(this.#session.remove(`${this.path}/pending`), undefined);
  }

  /** Answers a read with the stored value (a down replica's closed session rejects). */
  async read(): Promise<{ value: Versioned; zkVersion: number }> {
    const { data, stat } = await this.#session.getData(this.path);
    return { value: JSON.parse(data.toString('utf8')) as Versioned, zkVersion: stat.version };
  }

  /** Read repair: store a newer value, unless the replica changed since it was read. */
  async repair(value: Versioned, zkVersion: number): Promise<void> {
    await this.#session.setData(this.path, JSON.stringify(value), zkVersion);
  }
}

/** `count` items of `items` in random order (Fisher–Yates on a copy). */
export function pick<T>(items: readonly T[], count: number, random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, count);
}
