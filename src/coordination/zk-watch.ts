import { Backoff } from '../common/backoff.js';
import type { Logger } from '../common/log.js';
import { isZkError } from './zk-errors.js';
import type { ZkStat } from './zk-stat.js';

export type ZkWatchEventType = 'created' | 'deleted' | 'dataChanged' | 'childrenChanged';

export interface ZkWatchEvent {
  type: ZkWatchEventType;
  path: string;
}

/** A one-shot watcher, as ZooKeeper delivers them. */
export type ZkWatcher = (event: ZkWatchEvent) => void;

export interface ZkDataSnapshot {
  data: Buffer;
  stat: ZkStat;
}

/** Stops a watch helper; idempotent. */
export type StopWatching = () => void;

/** The part of ZkSession the watch helpers need (kept narrow to avoid an import cycle). */
export interface WatchableSession {
  readonly logger: Logger;
  readonly closed: boolean;
  getData(path: string, watcher?: ZkWatcher): Promise<ZkDataSnapshot>;
  exists(path: string, watcher?: ZkWatcher): Promise<ZkStat | null>;
  getChildren(path: string, watcher?: ZkWatcher): Promise<string[]>;
  onSessionRenewed(hook: () => Promise<void>): () => void;
}

/** Reads that re-arm themselves, retried with backoff on failure; reads never overlap. */
class RearmingWatch<T> {
  #dirty = false;
  #running = false;
  #stopped = false;
  readonly #backoff = new Backoff(100, 2_000);
  #retryTimer: NodeJS.Timeout | null = null;
  readonly #removeHook: () => void;

  constructor(
    private readonly session: WatchableSession,
    private readonly path: string,
    private readonly read: (watcher: ZkWatcher) => Promise<T>,
    private readonly deliver: (value: T) => void,
    /** Given: the node's deletion delivers this and ends the watch, with no read. */
    private readonly gone?: T,
  ) {
    // A new session has none of the old one's watches: arm them again and re-read.
    this.#removeHook = session.onSessionRenewed(async () => this.trigger());
    this.trigger();
  }

  trigger(): void {
    if (this.#stopped) return;
    this.#dirty = true;
    if (!this.#running) void this.#run();
  }

  stop(): void {
    this.#stopped = true;
    this.#removeHook();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#dirty && !this.#stopped) {
        this.#dirty = false;
        let value: T;
        try {
          value = await this.read((event) => this.#fired(event));
        } catch (err) {
          this.#scheduleRetry(err);
          return;
        }
        this.#backoff.reset();
        if (this.#stopped) return;
        try {
          this.deliver(value);
        } catch (err) {
          this.session.logger.error({ err, path: this.path }, 'zk watch listener threw');
        }
      }
    } finally {
      this.#running = false;
    }
  }

  #fired(event: ZkWatchEvent): void {
    if (event.type !== 'deleted' || this.gone === undefined) return this.trigger();
    if (this.#stopped) return;
    this.stop();
    try {
      this.deliver(this.gone);
    } catch (err) {
      this.session.logger.error({ err, path: this.path }, 'zk watch listener threw');
    }
  }

  #scheduleRetry(err: unknown): void {
    if (this.#stopped || this.session.closed || isZkError(err, 'SESSION_CLOSED')) return;
    this.session.logger.debug({ err, path: this.path }, 'zk watch read failed; retrying');
    const delay = this.#backoff.next();
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.trigger();
    }, delay);
  }
}

/** Reads a node and arms a watch on it; null (with a creation watch armed) when absent. */
async function readData(
  session: WatchableSession,
  path: string,
  watcher: ZkWatcher,
): Promise<ZkDataSnapshot | null> {
  // Bounded: a node that keeps appearing and vanishing between our two reads is retried later.
  for (let i = 0; i < 3; i++) {
    try {
      return await session.getData(path, watcher);
    } catch (err) {
      if (!isZkError(err, 'NO_NODE')) throw err;
    }
    if ((await session.exists(path, watcher)) === null) return null;
  }
  throw new Error(`${path} keeps appearing and vanishing`);
}

async function readChildren(
  session: WatchableSession,
  path: string,
  watcher: ZkWatcher,
  /** A missing node is final: no watch for its return. */
  missingEnds = false,
): Promise<string[] | null> {
  for (let i = 0; i < 3; i++) {
    try {
      return await session.getChildren(path, watcher);
    } catch (err) {
      if (!isZkError(err, 'NO_NODE')) throw err;
    }
    if (missingEnds) return null;
    if ((await session.exists(path, watcher)) === null) return null;
  }
  throw new Error(`${path} keeps appearing and vanishing`);
}

/**
 * Calls `onChange` with the node's current data (null while it does not exist) now and after
 * every change, re-arming the one-shot watch with the same read that fetches the value, so no
 * change between "fired" and "re-armed" is missed. It may repeat an unchanged value (e.g.
 * after a session renewal). Keeps going across reconnects and renewals until stopped.
 */
export function watchData(
  session: WatchableSession,
  path: string,
  onChange: (snapshot: ZkDataSnapshot | null) => void,
): StopWatching {
  const watch = new RearmingWatch(session, path, (w) => readData(session, path, w), onChange);
  return () => watch.stop();
}

export interface WatchChildrenOptions {
  /**
   * Once the node has been seen, its deletion is the last news (null) and ends the watch: no
   * watch is armed for its return (nor, when ZooKeeper reports the deletion itself rather than
   * a change of children, a read). For nodes that are never created again once removed.
   */
  endOnDeletion?: boolean;
}

/** Like watchData, for the list of children (null while the parent does not exist). */
export function watchChildren(
  session: WatchableSession,
  path: string,
  onChange: (children: string[] | null) => void,
  options: WatchChildrenOptions = {},
): StopWatching {
  const ending = options.endOnDeletion === true;
  let seen = false;
  const watch: RearmingWatch<string[] | null> = new RearmingWatch(
    session,
    path,
    (w) => readChildren(session, path, w, ending && seen),
    (children) => {
      const ended = ending && seen && children === null;
      seen ||= children !== null;
      if (ended) watch.stop();
      onChange(children);
    },
    ending ? null : undefined,
  );
  return () => watch.stop();
}

/** Resolves true once `path` does not exist, false if it still does after `timeoutMs`. */
export function waitForDeletion(
  session: WatchableSession,
  path: string,
  timeoutMs: number,
): Promise<boolean> {
  return waitForExistence(session, path, false, timeoutMs);
}

/** Resolves true once `path` exists, false if it still does not after `timeoutMs`. */
export function waitForCreation(
  session: WatchableSession,
  path: string,
  timeoutMs: number,
): Promise<boolean> {
  return waitForExistence(session, path, true, timeoutMs);
}

/**
 * Waits on an exists watch (no polling) until the node's existence is `wanted`. Arming the
 * watch with the same read that checks closes the gap between "check" and "wait".
 */
async function waitForExistence(
  session: WatchableSession,
  path: string,
  wanted: boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let wake: () => void = () => {};
    const changed = new Promise<void>((resolve) => (wake = resolve));
    if (((await session.exists(path, () => wake())) !== null) === wanted) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([changed, new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
    clearTimeout(timer);
  }
}
