import { Backoff } from '../common/backoff.js';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { State } from 'node-zookeeper-client';
import type { Client } from 'node-zookeeper-client';
import type { Logger } from '../common/log.js';
import { connectClient, destroyClient } from './zk-client.js';
import { ZkError } from './zk-errors.js';
import type {
  EphemeralOwnership,
  ZkSessionEvents,
  ZkSessionOptions,
  ZkSessionState,
} from './zk-session-types.js';
import { SessionWatchdog } from './zk-watchdog.js';
import { ephemeralOwnerOf, type ZkStat } from './zk-stat.js';

/**
 * The life of a ZooKeeper session across the library's clients: connect, a watchdog for hung
 * servers (`SessionWatchdog`), and renewal after expiry (an expired library
 * client is dead forever) with re-registration hooks. ZkSession adds the operations.
 */
export class ZkSessionLifecycle extends EventEmitter<ZkSessionEvents> {
  readonly logger: Logger;
  readonly #connectionString: string;
  readonly #auth: string | undefined;
  readonly #requestedTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  protected readonly opTimeoutMs: number;
  #client: Client | null = null;
  #generation = 0;
  #state: ZkSessionState = 'connecting';
  #sessionId = '';
  readonly #pastSessionIds = new Set<string>();
  #timeoutMs: number;
  readonly #watchdog: SessionWatchdog;
  readonly #hooks = new Set<() => Promise<void>>();
  readonly #abort = new AbortController();

  protected constructor(options: ZkSessionOptions) {
    super();
    this.logger = options.logger;
    this.#connectionString = options.connectionString;
    this.#auth = options.auth;
    this.#requestedTimeoutMs = options.sessionTimeoutMs;
    this.#timeoutMs = options.sessionTimeoutMs;
    this.#connectTimeoutMs =
      options.connectTimeoutMs ?? Math.max(2 * options.sessionTimeoutMs, 5_000);
    this.opTimeoutMs = options.opTimeoutMs ?? options.sessionTimeoutMs;
    this.#watchdog = new SessionWatchdog({
      logger: this.logger,
      currentClient: () => this.#client,
      currentGeneration: () => this.#generation,
      isConnected: () => this.#state === 'connected',
      isSuspended: () => this.#state === 'suspended',
      timeoutMs: () => this.#timeoutMs,
      suspend: (reason) => this.#suspend(reason),
      resume: (reason) => this.#resume(reason),
      expire: (reason) => this.#expire(reason),
    });
  }

  /** Connects (bounded by `connectTimeoutMs`, rejecting with ZK_TIMEOUT) and starts the watchdog. */
  protected async start(): Promise<void> {
    this.#adopt(await this.#connect());
    this.#setState('connected', 'connected');
    this.#watchdog.start();
  }

  /** Whether znodes are created with a digest ACL for this session's identity. */
  protected get authenticated(): boolean {
    return this.#auth !== undefined;
  }

  /** ZK_AUTH's `user:password`, for the digest id our ACL entries carry on the server. */
  protected get auth(): string | undefined {
    return this.#auth;
  }

  /** The library client of the current session; null while renewing and after close. */
  protected get client(): Client | null {
    return this.#client;
  }

  /** Bumped whenever the client changes, so callbacks from a dropped client can be ignored. */
  protected get generation(): number {
    return this.#generation;
  }

  get state(): ZkSessionState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** The current session id, 16 hex digits (same form as `statLongToHex(ephemeralOwner)`). */
  get sessionId(): string {
    return this.#sessionId;
  }

  /** The timeout the server granted. */
  get sessionTimeoutMs(): number {
    return this.#timeoutMs;
  }

  /**
   * The current session's id and password. A second client that connects with them and closes
   * kills the session, which is how tests and tools force a real server-side expiry.
   */
  sessionCredentials(): { sessionId: Buffer; password: Buffer } | null {
    const client = this.#client;
    return client
      ? { sessionId: client.getSessionId(), password: client.getSessionPassword() }
      : null;
  }

  /** Whether an ephemeral node belongs to this session, an earlier one of ours, or not us. */
  ownership(stat: ZkStat): EphemeralOwnership {
    const owner = ephemeralOwnerOf(stat);
    if (owner === null) return 'none';
    if (owner === this.#sessionId) return 'current';
    return this.#pastSessionIds.has(owner) ? 'previous' : 'other';
  }

  /**
   * Registers a hook run after a new session replaced an expired one: re-create ephemerals,
   * re-enter elections. Hooks run concurrently and are retried until they succeed (or the
   * session changes again). Returns an unregister function.
   */
  onSessionRenewed(hook: () => Promise<void>): () => void {
    this.#hooks.add(hook);
    return () => this.#hooks.delete(hook);
  }

  /** Resolves when the session reaches one of `states`; rejects with ZK_TIMEOUT after `timeoutMs`. */
  async waitFor(states: ZkSessionState | ZkSessionState[], timeoutMs: number): Promise<void> {
    const wanted = Array.isArray(states) ? states : [states];
    if (wanted.includes(this.#state)) return;
    await new Promise<void>((resolve, reject) => {
      const onState = (state: ZkSessionState): void => {
        if (!wanted.includes(state)) return;
        clearTimeout(timer);
        this.off('state', onState);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('state', onState);
        reject(
          new ZkError(
            'OPERATION_TIMEOUT',
            `session not ${wanted.join('/')} in ${timeoutMs} ms (${this.#state})`,
          ),
        );
      }, timeoutMs);
      this.on('state', onState);
    });
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const client = this.#client;
    this.#client = null;
    this.#generation++;
    this.#abort.abort();
    this.#watchdog.stop();
    this.#setState('closed', 'closed by us');
    this.#hooks.clear();
    if (!client) return;
    // The library's close() sends closeSession but never says when it is done: wait for the
    // socket to drop (bounded), then make sure it is gone.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(this.opTimeoutMs, 2_000));
      client.on('state', (state) => {
        if (state === State.DISCONNECTED) {
          clearTimeout(timer);
          resolve();
        }
      });
      client.close();
    });
    destroyClient(client);
  }

  #connect(): Promise<Client> {
    return connectClient({
      connectionString: this.#connectionString,
      sessionTimeoutMs: this.#requestedTimeoutMs,
      connectTimeoutMs: this.#connectTimeoutMs,
      signal: this.#abort.signal,
      auth: this.#auth,
    });
  }

  #adopt(client: Client): void {
    this.#client = client;
    this.#generation++;
    this.#sessionId = client.getSessionId().toString('hex');
    this.#timeoutMs = client.getSessionTimeout();
    this.#watchdog.reset();
    client.on('state', (state) => this.#onClientState(client, state));
    this.logger.info(
      { sessionId: this.#sessionId, timeoutMs: this.#timeoutMs },
      'zk session connected',
    );
  }

  #onClientState(client: Client, state: State): void {
    if (client !== this.#client) return;
    this.logger.debug({ sessionId: this.#sessionId, state: state.name }, 'zk client state');
    if (state === State.SYNC_CONNECTED) {
      if (this.#state === 'suspended') this.#resume('reconnected');
    } else if (state === State.EXPIRED) {
      this.#expire('ZooKeeper reported the session expired');
    } else {
      this.#suspend(`connection ${state.name.toLowerCase()}`);
    }
  }

  #suspend(reason: string): void {
    if (this.#state !== 'connected') return;
    this.#watchdog.suspended();
    this.logger.warn({ sessionId: this.#sessionId, reason }, 'zk session suspended');
    this.#setState('suspended', reason);
  }

  #resume(reason: string): void {
    this.#watchdog.resumed();
    this.logger.info({ sessionId: this.#sessionId, reason }, 'zk session resumed');
    this.#setState('connected', reason);
  }

  #expire(reason: string): void {
    if (this.#state === 'closed' || this.#state === 'expired') return;
    const client = this.#client;
    this.#pastSessionIds.add(this.#sessionId);
    this.#client = null;
    this.#generation++;
    if (client) destroyClient(client);
    this.logger.warn({ sessionId: this.#sessionId, reason }, 'zk session expired; renewing');
    this.#setState('expired', reason);
    void this.#renew();
  }

  /** Builds a new client until one connects, then runs the re-registration hooks. */
  async #renew(): Promise<void> {
    const backoff = new Backoff(100, 2_000);
    while (this.#state === 'expired') {
      let client: Client;
      try {
        client = await this.#connect();
      } catch (err) {
        if (this.#state !== 'expired') return;
        this.logger.warn({ err }, 'zk reconnect after expiry failed; retrying');
        if (!(await this.#pause(backoff.next()))) return;
        continue;
      }
      if (this.#state !== 'expired') {
        destroyClient(client); // closed while the connect was answering
        return;
      }
      this.#adopt(client);
      this.#setState('connected', 'new session after expiry');
    }
    const generation = this.#generation;
    await Promise.all([...this.#hooks].map((hook) => this.#runHook(hook, generation)));
    if (generation === this.#generation) this.emit('renewed', this.#sessionId);
  }

  async #runHook(hook: () => Promise<void>, generation: number): Promise<void> {
    const backoff = new Backoff(100, 2_000);
    while (generation === this.#generation && this.#hooks.has(hook)) {
      try {
        await hook();
        return;
      } catch (err) {
        this.logger.warn({ err }, 'zk re-registration hook failed; retrying');
        if (!(await this.#pause(backoff.next()))) return;
      }
    }
  }

  /** Sleeps unless the session closes first; false when it did. */
  async #pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.#abort.signal });
      return true;
    } catch {
      return false;
    }
  }

  #setState(next: ZkSessionState, reason: string): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    this.emit('state', next, previous, reason);
  }
}
