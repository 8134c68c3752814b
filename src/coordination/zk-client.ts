import type { Socket } from 'node:net';
import { createClient } from 'node-zookeeper-client';
import type { Client } from 'node-zookeeper-client';
import { ZkError } from './zk-errors.js';

export interface ConnectOptions {
  connectionString: string;
  sessionTimeoutMs: number;
  /** Rejects with OPERATION_TIMEOUT (code ZK_TIMEOUT) when not connected by then. */
  connectTimeoutMs: number;
  /** Aborting rejects with SESSION_CLOSED and tears the half-made client down. */
  signal: AbortSignal;
  /** `user:password` for ZooKeeper's digest scheme (ZK_AUTH); none when absent. */
  auth?: string;
}

/** A new library client with a new session, connected; the client is torn down on failure. */
export function connectClient(options: ConnectOptions): Promise<Client> {
  const { connectionString, sessionTimeoutMs, connectTimeoutMs, signal } = options;
  const client = createClient(connectionString, {
    sessionTimeout: sessionTimeoutMs,
    // Between full rounds of connection attempts; short so a restarted server is found fast.
    spinDelay: Math.min(1_000, Math.max(100, Math.floor(sessionTimeoutMs / 10))),
    // Never let the library retry: a retried create can leave orphan sequential nodes.
    retries: 0,
  });
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error): void => {
      settle();
      destroyClient(client);
      reject(err);
    };
    const onAbort = (): void =>
      fail(new ZkError('SESSION_CLOSED', 'ZooKeeper session closed while connecting'));
    const timer = setTimeout(() => {
      const why = `could not connect to ZooKeeper at ${connectionString} within ${connectTimeoutMs} ms`;
      fail(new ZkError('OPERATION_TIMEOUT', why));
    }, connectTimeoutMs);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    client.once('connected', () => {
      settle();
      resolve(client);
    });
    // The library keeps the credentials and sends them again on every reconnection.
    if (options.auth) client.addAuthInfo('digest', Buffer.from(options.auth));
    client.connect();
  });
}

/**
 * Tears a library client down for good. close() alone is not enough: on a hung connection
 * (SIGSTOPped server, black-holed network) the socket would stay open and keep the process
 * alive, and the library offers no other way to drop it.
 */
export function destroyClient(client: Client): void {
  try {
    client.close();
  } catch {
    // already closing or closed
  }
  dropConnection(client);
}

/**
 * Destroys the library's socket (a private field: the library has no read timeout and no
 * public way to drop a connection). Unless the client is closing, the library reconnects.
 */
export function dropConnection(client: Client): void {
  const manager = (client as unknown as { connectionManager?: { socket?: Socket } })
    .connectionManager;
  manager?.socket?.destroy();
}
