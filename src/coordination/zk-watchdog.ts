import { State } from 'node-zookeeper-client';
import type { Client } from 'node-zookeeper-client';
import type { Logger } from '../common/log.js';
import { dropConnection } from './zk-client.js';

/** What the watchdog needs of the session it guards. */
export interface WatchedSession {
  readonly logger: Logger;
  /** The library client of the current session, or null while there is none. */
  currentClient(): Client | null;
  /** Bumped whenever the client changes, so a late probe answer from a dropped one is ignored. */
  currentGeneration(): number;
  isConnected(): boolean;
  isSuspended(): boolean;
  /** The timeout the server granted. */
  timeoutMs(): number;
  suspend(reason: string): void;
  resume(reason: string): void;
  expire(reason: string): void;
}

/**
 * Finds a hung ZooKeeper server, which the library cannot see (it has no read timeout): every
 * ~timeout/3 one `exists('/')` probe is in flight, a probe unanswered for a whole interval
 * suspends the session and drops the connection, and a suspension that lasts a whole session
 * timeout is treated as the expiry the server has (or will have) decided.
 */
export class SessionWatchdog {
  readonly #session: WatchedSession;
  #timer: NodeJS.Timeout | null = null;
  #suspendedAt = 0;
  #probeSentAt = 0;
  #droppedAt = 0;

  constructor(session: WatchedSession) {
    this.#session = session;
  }

  start(): void {
    const interval = Math.max(50, Math.floor(this.#session.timeoutMs() / 3));
    this.#timer = setInterval(() => this.#tick(interval), interval);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** A new client was adopted: nothing of the old one's probes or suspension carries over. */
  reset(): void {
    this.#suspendedAt = 0;
    this.#probeSentAt = 0;
    this.#droppedAt = 0;
  }

  suspended(): void {
    this.#suspendedAt = Date.now();
  }

  resumed(): void {
    this.#suspendedAt = 0;
  }

  #tick(intervalMs: number): void {
    const session = this.#session;
    const client = session.currentClient();
    if (!client || !(session.isConnected() || session.isSuspended())) return;
    const now = Date.now();
    const timeoutMs = session.timeoutMs();
    if (session.isSuspended() && now - this.#suspendedAt >= timeoutMs) {
      // Like Curator: out of touch for a whole session timeout means the server has (or will
      // have) expired us. Waiting for the library to say so can take forever on a hung link.
      session.expire(`no answer from ZooKeeper for ${timeoutMs} ms (the session timeout)`);
      return;
    }
    if (this.#probeSentAt !== 0) {
      const waited = now - this.#probeSentAt;
      if (waited >= intervalMs && now - this.#droppedAt >= intervalMs) {
        session.suspend(`watchdog: no answer in ${waited} ms`);
        // Like the Java client's read timeout: drop the connection, so the library reconnects
        // (to another server of the ensemble, or to this one once it answers) instead of
        // waiting forever on a hung server or a handshake that never completes.
        this.#droppedAt = now;
        session.logger.debug({ waited }, 'zk watchdog drops the connection');
        dropConnection(client);
      }
      return;
    }
    const generation = session.currentGeneration();
    this.#probeSentAt = now;
    try {
      client.exists('/', (err) => {
        if (generation !== session.currentGeneration()) return;
        this.#probeSentAt = 0;
        if (!err && session.isSuspended() && client.getState() === State.SYNC_CONNECTED) {
          session.resume('watchdog probe answered');
        }
      });
    } catch (err) {
      session.logger.warn({ err }, 'zk watchdog probe could not be sent');
    }
  }
}
