import { Event } from 'node-zookeeper-client';
import type { ACL, Client, Event as LibEvent } from 'node-zookeeper-client';
import { describeAcl, digestId, onlyOurs } from './zk-acl.js';
import {
  checkRequestSize,
  isZkError,
  requestBytes,
  toZkError,
  unlessMissing,
  ZkError,
} from './zk-errors.js';
import {
  buildTransaction,
  commitTransaction,
  CREATE_MODES,
  CREATOR_ACL,
  OPEN_ACL,
  toBuffer,
  ZkMulti,
  type ZkCreateMode,
  type ZkData,
  type ZkOp,
  type ZkOpResult,
} from './zk-multi.js';
import { ZkSessionLifecycle } from './zk-session-lifecycle.js';
import type { ZkSessionOptions } from './zk-session-types.js';
import type { ZkStat } from './zk-stat.js';
import {
  watchChildren,
  watchData,
  type StopWatching,
  type WatchChildrenOptions,
  type ZkDataSnapshot,
  type ZkWatcher,
  type ZkWatchEventType,
} from './zk-watch.js';

export type {
  EphemeralOwnership,
  ZkSessionEvents,
  ZkSessionOptions,
  ZkSessionState,
} from './zk-session-types.js';

function openAcl(path: string, why: string): ZkError {
  return new ZkError(
    'OPEN_ACL',
    `ZooKeeper node ${path} is not protected by ZK_AUTH (${why}): delete it with an admin client, or point ZK_HOSTS at a chroot of this cluster's own.`,
    { path },
  );
}

const WATCH_TYPES: ReadonlyMap<number, ZkWatchEventType> = new Map([
  [Event.NODE_CREATED, 'created'],
  [Event.NODE_DELETED, 'deleted'],
  [Event.NODE_DATA_CHANGED, 'dataChanged'],
  [Event.NODE_CHILDREN_CHANGED, 'childrenChanged'],
]);

/**
 * One pod's ZooKeeper session with promise operations. Every operation is bounded by
 * `opTimeoutMs`; while a renewal is under way they fail fast with SESSION_EXPIRED.
 */
export class ZkSession extends ZkSessionLifecycle {
  /** Requests sent to ZooKeeper by this process, by operation (for metrics and the bench). */
  readonly operations: Record<string, number> = {};

  /** ZK_AUTH: nodes we create are usable by our digest identity only; otherwise open. */
  get #acls(): ACL[] {
    return this.authenticated ? CREATOR_ACL : OPEN_ACL;
  }

  /** Connects (bounded by `connectTimeoutMs`, rejecting with ZK_TIMEOUT) and starts the watchdog. */
  static async create(options: ZkSessionOptions): Promise<ZkSession> {
    const session = new ZkSession(options);
    await session.start();
    return session;
  }

  create(path: string, data?: ZkData, mode: ZkCreateMode = 'persistent'): Promise<string> {
    const buffer = toBuffer(data);
    return this.#call('create', path, (client, done) => {
      checkRequestSize(requestBytes(path, buffer.length), 'create', path);
      client.create(path, buffer, this.#acls, CREATE_MODES[mode], done);
    });
  }

  /**
   * Persistent `mkdir -p`; tolerates concurrent creators. Under ZK_AUTH every node on the path
   * that already exists must be ours alone: one made (or remade after a delete) by someone
   * else is closed to our identity, or refused when we may not (see secure()).
   */
  async ensurePath(path: string): Promise<void> {
    if (!this.authenticated && (await this.exists(path)) !== null) return;
    let current = '';
    for (const part of path.split('/').filter(Boolean)) {
      current += '/' + part;
      try {
        await this.create(current);
      } catch (err) {
        if (!isZkError(err, 'NODE_EXISTS')) throw err;
        await this.secure(current);
      }
    }
  }

  /**
   * Under ZK_AUTH: makes an existing node's ACL ours alone (a no-op when it already is, when it
   * does not exist, or without ZK_AUTH). Rejects with OPEN_ACL when the node is open and we
   * may not change its ACL. The data of a node found open is kept, but logged.
   */
  async secure(path: string, attempt = 1): Promise<void> {
    const auth = this.auth;
    if (auth === undefined) return;
    const ours = digestId(auth);
    let found: { acls: ACL[]; version: number };
    try {
      found = await this.#call('getACL', path, (client, done) =>
        client.getACL(path, (err, acls, stat) =>
          done(err, { acls: acls ?? [], version: (stat as { aversion?: number })?.aversion ?? -1 }),
        ),
      );
    } catch (err) {
      if (isZkError(err, 'NO_NODE')) return;
      if (!isZkError(err, 'NO_AUTH')) throw err;
      throw openAcl(path, 'it belongs to another identity');
    }
    if (onlyOurs(found.acls, ours)) return;
    this.logger.warn(
      { path, acl: describeAcl(found.acls) },
      'znode open to other identities: closing it to ours (its data was left as found)',
    );
    try {
      await this.#call('setACL', path, (client, done) =>
        client.setACL(path, CREATOR_ACL, found.version, done),
      );
    } catch (err) {
      if (isZkError(err, 'NO_NODE')) return;
      // Its ACL changed between our read and write: look again, a bounded number of times.
      if (isZkError(err, 'BAD_VERSION') && attempt < 3) return this.secure(path, attempt + 1);
      if (!isZkError(err, 'NO_AUTH')) throw err;
      throw openAcl(path, `its ACL is ${describeAcl(found.acls)} and we may not change it`);
    }
  }

  getData(path: string, watcher?: ZkWatcher): Promise<ZkDataSnapshot> {
    return this.#call('getData', path, (client, done) => {
      const cb = (err: unknown, data?: Buffer, stat?: ZkStat): void =>
        done(err, { data: data ?? Buffer.alloc(0), stat: stat as ZkStat });
      if (watcher) client.getData(path, this.#wrap(watcher), cb);
      else client.getData(path, cb);
    });
  }

  setData(path: string, data: ZkData, version = -1): Promise<ZkStat> {
    const buffer = toBuffer(data);
    return this.#call('setData', path, (client, done) => {
      checkRequestSize(requestBytes(path, buffer.length), 'setData', path);
      client.setData(path, buffer, version, done);
    });
  }

  /** The node's stat, or null when it does not exist (the watcher then waits for its creation). */
  exists(path: string, watcher?: ZkWatcher): Promise<ZkStat | null> {
    return this.#call('exists', path, (client, done) => {
      const cb = (err: unknown, stat?: ZkStat): void => done(err, stat ?? null);
      if (watcher) client.exists(path, this.#wrap(watcher), cb);
      else client.exists(path, cb);
    });
  }

  getChildren(path: string, watcher?: ZkWatcher): Promise<string[]> {
    return this.#call('getChildren', path, (client, done) => {
      const cb = (err: unknown, children?: string[]): void => done(err, children ?? []);
      if (watcher) client.getChildren(path, this.#wrap(watcher), cb);
      else client.getChildren(path, cb);
    });
  }

  remove(path: string, version = -1): Promise<void> {
    return this.#call('remove', path, (client, done) => client.remove(path, version, done));
  }

  /**
   * Deletes a subtree bottom-up (the library's removeRecursive is broken on 3.x servers).
   * Nodes that vanish meanwhile are fine; children added meanwhile are retried a few times.
   */
  async removeTree(path: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const children = await unlessMissing(this.getChildren(path), null);
      if (!children) return;
      const prefix = path === '/' ? '/' : path + '/';
      for (let i = 0; i < children.length; i += 32) {
        await Promise.all(children.slice(i, i + 32).map((c) => this.removeTree(prefix + c)));
      }
      if (path === '/') return;
      try {
        await this.remove(path);
        return;
      } catch (err) {
        if (isZkError(err, 'NO_NODE')) return;
        if (!isZkError(err, 'NOT_EMPTY') || attempt >= 5) throw err;
      }
    }
  }

  multi(): ZkMulti {
    return new ZkMulti((ops) => this.commit(ops));
  }

  /** Applies `ops` atomically; see ZkMulti.commit. */
  commit(ops: readonly ZkOp[]): Promise<ZkOpResult[]> {
    return this.#call('multi', ops[0]?.path ?? '/', (client, done) => {
      commitTransaction(buildTransaction(client, ops, this.#acls), ops, done);
    });
  }

  /** See zk-watch.ts: re-arming data watch that survives reconnects and renewals. */
  watchData(path: string, onChange: (snapshot: ZkDataSnapshot | null) => void): StopWatching {
    return watchData(this, path, onChange);
  }

  watchChildren(
    path: string,
    onChange: (children: string[] | null) => void,
    options?: WatchChildrenOptions,
  ): StopWatching {
    return watchChildren(this, path, onChange, options);
  }

  /**
   * Runs one request on the current client: counted, refused at once while the session is
   * closed or being renewed, and bounded by `opTimeoutMs`.
   */
  #call<T>(
    op: string,
    path: string,
    run: (client: Client, done: (err: unknown, value?: T) => void) => void,
  ): Promise<T> {
    const client = this.client;
    this.operations[op] = (this.operations[op] ?? 0) + 1;
    if (this.closed) {
      return Promise.reject(
        new ZkError('SESSION_CLOSED', `ZooKeeper ${op} ${path}: session closed`, { path }),
      );
    }
    if (!client) {
      return Promise.reject(
        new ZkError('SESSION_EXPIRED', `ZooKeeper ${op} ${path}: session expired, renewing`, {
          path,
        }),
      );
    }
    return new Promise<T>((resolve, reject) => {
      // The library never times a request out; a hung server would hold the promise forever.
      const timer = setTimeout(() => {
        reject(
          new ZkError(
            'OPERATION_TIMEOUT',
            `ZooKeeper ${op} ${path}: no answer in ${this.opTimeoutMs} ms`,
            {
              path,
            },
          ),
        );
      }, this.opTimeoutMs);
      try {
        run(client, (err, value) => {
          clearTimeout(timer);
          if (err) reject(toZkError(err, op, path));
          else resolve(value as T);
        });
      } catch (err) {
        clearTimeout(timer);
        reject(toZkError(err, op, path));
      }
    });
  }

  /** Converts library events; watchers armed on a client we have since dropped stay silent. */
  #wrap(watcher: ZkWatcher): (event: LibEvent) => void {
    const generation = this.generation;
    return (event) => {
      const type = WATCH_TYPES.get(event.getType());
      if (generation !== this.generation || !type) return;
      watcher({ type, path: event.getPath() });
    };
  }
}
