/** The vocabulary of a ZooKeeper session's life, shared by the lifecycle and its users. */
import type { Logger } from '../common/log.js';

/**
 * connecting → connected ⇄ suspended → expired → connected (a new session) … → closed.
 * `suspended`: ZooKeeper is not answering; the session may still be alive, but nothing we
 * hold (leadership, claims) can be trusted until it answers again.
 */
export type ZkSessionState = 'connecting' | 'connected' | 'suspended' | 'expired' | 'closed';

export interface ZkSessionOptions {
  /** `host:port[,host:port…][/chroot]` */
  connectionString: string;
  /** Requested session timeout; the server clamps it to its min/max (see `sessionTimeoutMs`). */
  sessionTimeoutMs: number;
  logger: Logger;
  /** Bound on connecting (the first time and each attempt after expiry); default 2×timeout, ≥ 5 s. */
  connectTimeoutMs?: number;
  /** Bound on each operation; default the session timeout. */
  opTimeoutMs?: number;
  /**
   * `user:password` (ZK_AUTH): the session authenticates with ZooKeeper's digest scheme and
   * every znode it creates is readable and writable by that identity only.
   */
  auth?: string;
}

export interface ZkSessionEvents {
  /** `reason` says why in words, for logs (e.g. which watchdog deadline was missed). */
  state: [state: ZkSessionState, previous: ZkSessionState, reason: string];
  /** A new session replaced an expired one and every re-registration hook has run. */
  renewed: [sessionId: string];
}

/** Which session owns an ephemeral node, relative to this ZkSession's history. */
export type EphemeralOwnership = 'current' | 'previous' | 'other' | 'none';
