import { hostname } from 'node:os';
import { HisteqError } from '../common/errors.js';
import { createLogger, type Logger } from '../common/log.js';
import { isZkError, ZkSession } from '../coordination/index.js';
import { ZookeeperServer } from '../local/zookeeper-server.js';
import type { Narrator } from './narration.js';
import type { DemoName } from './result.js';

/** Every demo keeps its znodes under here, so cleaning up never touches cluster state. */
export const DEMOS_ROOT = '/demos';
const LOCKS_PATH = `${DEMOS_ROOT}/locks`;

export interface DemoRuntimeOptions {
  demo: DemoName;
  /** ZK_HOSTS; undefined starts a temporary ZooKeeper for the demo's duration (local mode). */
  zkHosts: string | undefined;
  sessionTimeoutMs: number;
  narrator: Narrator;
  /** Bound on each connect; short, because a person is waiting. Default 5 s. */
  connectTimeoutMs?: number;
  /** ZK_AUTH of the cluster, so the demo reads and writes the same protected znodes. */
  zkAuth?: string;
}

/**
 * What a demo runs on: a ZooKeeper (the cluster's, or a temporary one), one ZkSession per
 * participant, a run lock, and clean-up steps that also run when the demo is interrupted.
 */
export class DemoRuntime {
  readonly narrator: Narrator;
  readonly connectionString: string;
  readonly temporaryZooKeeper: boolean;
  readonly #options: DemoRuntimeOptions;
  readonly #server: ZookeeperServer | null;
  readonly #logger: Logger;
  readonly #sessions = new Set<ZkSession>();
  readonly #deferred = new Map<symbol, { what: string; step: () => Promise<void> }>();
  #control: ZkSession | null = null;
  #closing: Promise<void> | null = null;

  private constructor(options: DemoRuntimeOptions, server: ZookeeperServer | null) {
    this.#options = options;
    this.narrator = options.narrator;
    this.#server = server;
    this.temporaryZooKeeper = server !== null;
    this.connectionString = server?.connectionString ?? (options.zkHosts as string);
    // Library chatter would drown the narration; warnings still reach stderr.
    this.#logger = createLogger({
      pod: `demo-${options.demo}`,
      level: 'warn',
      format: 'pretty',
      destination: process.stderr,
    });
  }

  static async start(options: DemoRuntimeOptions): Promise<DemoRuntime> {
    const { narrator } = options;
    let server: ZookeeperServer | null = null;
    if (options.zkHosts === undefined) {
      narrator.say('demo', 'ZK_HOSTS is not set: starting a temporary ZooKeeper for this demo…');
      server = await ZookeeperServer.start();
      narrator.say(
        'demo',
        `temporary ZooKeeper at ${server.connectionString} (stopped when the demo ends)`,
      );
    } else {
      narrator.say('demo', `using ZooKeeper at ${options.zkHosts} (ZK_HOSTS)`);
    }
    const runtime = new DemoRuntime(options, server);
    try {
      runtime.#control = await runtime.openSession('control');
      await runtime.#lock();
    } catch (err) {
      await runtime.close();
      throw err;
    }
    return runtime;
  }

  /** A new ZooKeeper session of the project's own kind, closed by `close()` at the latest. */
  async openSession(participant: string): Promise<ZkSession> {
    const session = await ZkSession.create({
      connectionString: this.connectionString,
      sessionTimeoutMs: this.#options.sessionTimeoutMs,
      connectTimeoutMs: this.#options.connectTimeoutMs ?? 5_000,
      logger: this.#logger.child({ participant }),
      ...(this.#options.zkAuth ? { auth: this.#options.zkAuth } : {}),
    });
    this.#sessions.add(session);
    return session;
  }

  /**
   * Registers a clean-up step and returns a function that runs it once. The demo calls it in
   * its own `finally`; if the demo is interrupted first, `close()` runs it.
   */
  defer(what: string, step: () => Promise<void>): () => Promise<void> {
    const key = Symbol(what);
    this.#deferred.set(key, { what, step });
    return async () => {
      if (!this.#deferred.delete(key)) return;
      await step();
    };
  }

  /** Removes a demo's subtree bottom-up with the session no demo step closes. */
  async removeDemoTree(path: string): Promise<void> {
    const control = this.#control;
    if (!control) return;
    await control.removeTree(path);
  }

  /** Runs pending clean-ups, releases the lock, closes every session, stops a temporary server. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    for (const [key, { what, step }] of [...this.#deferred].reverse()) {
      this.#deferred.delete(key);
      try {
        await step();
      } catch (err) {
        this.narrator.warn('demo', `clean-up "${what}" failed: ${String(err)}`);
      }
    }
    const control = this.#control;
    if (control && !control.closed) {
      await control.remove(`${LOCKS_PATH}/${this.#options.demo}`).catch(() => undefined);
      // Other demos may be running: only empty parents go.
      for (const path of [LOCKS_PATH, DEMOS_ROOT]) {
        try {
          await control.remove(path);
        } catch (err) {
          if (!isZkError(err, 'NO_NODE', 'NOT_EMPTY')) break;
        }
      }
    }
    await Promise.all([...this.#sessions].map((s) => s.close()));
    if (this.#server) {
      await this.#server.stop();
      this.narrator.say('demo', 'temporary ZooKeeper stopped');
    }
  }

  /**
   * One run of a demo at a time per ZooKeeper: two people running the eventual demo at once
   * would each restore the other's write, and the fixed paths of the others would collide.
   */
  async #lock(): Promise<void> {
    const control = this.#control as ZkSession;
    const path = `${LOCKS_PATH}/${this.#options.demo}`;
    await control.ensurePath(LOCKS_PATH);
    const me = { host: hostname(), pid: process.pid, startedAt: new Date().toISOString() };
    try {
      await control.create(path, JSON.stringify(me), 'ephemeral');
    } catch (err) {
      if (!isZkError(err, 'NODE_EXISTS')) throw err;
      let holder = 'another process';
      try {
        const other = JSON.parse((await control.getData(path)).data.toString('utf8')) as typeof me;
        holder = `${other.host} (pid ${other.pid}, since ${other.startedAt})`;
      } catch {
        // it just finished, or wrote something else: the generic sentence will do
      }
      throw new HisteqError(
        'BAD_REQUEST',
        `Another "histeq demo ${this.#options.demo}" is running on ${holder}; ` +
          'wait for it to finish (its lock vanishes with its ZooKeeper session).',
      );
    }
  }
}
