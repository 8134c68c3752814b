import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import httpProxy from 'http-proxy';
import { readLocalMaster, type LocalMasterRecord } from '../cluster/local-labeler.js';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';

export interface FrontDoorOptions {
  /** The local registry the master pod writes (LOCAL_REGISTRY). */
  registryPath: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Default 127.0.0.1: a laptop's cluster is not published to the network unless asked. */
  host?: string;
  /** How long a registry read is reused (default 500 ms); a proxy error re-reads at once. */
  cacheMs?: number;
  logger: Logger;
}

const NO_MASTER =
  'No master has been elected yet: the cluster is starting or failing over. Retry in a moment.';

/**
 * The local stand-in for `master-service`: one port that proxies HTTP and WebSocket upgrades
 * to whichever pod the local registry names as master, so the browser's address never changes
 * across fail-overs.
 */
export class FrontDoor {
  readonly #options: Required<Omit<FrontDoorOptions, 'logger'>>;
  readonly #logger: Logger;
  readonly #server: Server;
  readonly #proxy = httpProxy.createProxyServer({ xfwd: true });
  #cached: { record: LocalMasterRecord | null; at: number } | null = null;
  #reading: Promise<LocalMasterRecord | null> | null = null;
  #routedTo: string | null = null;
  #closing: Promise<void> | null = null;
  /** Upgraded sockets leave the http server's books, so close() must cut them itself. */
  readonly #sockets = new Set<Duplex>();
  readonly #upgraded = new WeakSet<Duplex>();

  private constructor(options: FrontDoorOptions) {
    this.#options = { host: '127.0.0.1', cacheMs: 500, ...options };
    this.#logger = options.logger.child({ component: 'front-door' });
    // A bad registry entry (say, a URL http-proxy cannot parse) must cost one answer, not the
    // launcher: nothing thrown while routing may become an unhandled rejection.
    this.#server = createServer((req, res) => {
      this.#web(req, res, false).catch((err: unknown) => {
        this.#logger.error({ err: errorMessage(err) }, 'cannot route request');
        if (!res.headersSent) answer(res, 502, 'The front door cannot reach the master.');
      });
    });
    this.#server.on('upgrade', (req, socket, head) => {
      this.#upgrade(req, socket, head).catch((err: unknown) => {
        this.#logger.error({ err: errorMessage(err) }, 'cannot route WebSocket');
        socket.destroy();
      });
    });
    // Errors are answered per request in the callbacks; this catches anything left over.
    this.#proxy.on('error', (err) => this.#logger.debug({ err: err.message }, 'proxy error'));
    // A master that dies in the middle of an answer (a download, say) closes its side without
    // an error event, and http-proxy would leave the browser's response open forever: cut it,
    // so the client sees the failure at once and can retry through the next master.
    this.#proxy.on('proxyRes', (proxyRes, _req, res) => {
      proxyRes.once('close', () => {
        if (!proxyRes.complete) res.destroy();
      });
    });
    this.#proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
      proxyReq.once('upgrade', (_res, upstream: Duplex) => {
        this.#upgraded.add(socket);
        // http-proxy ends the other side only on a clean end or an error; a plain destroy
        // (our close(), a vanished browser) would leave the master holding a dead WebSocket.
        socket.once('close', () => upstream.destroy());
        upstream.once('close', () => socket.destroy());
      });
    });
  }

  static async start(options: FrontDoorOptions): Promise<FrontDoor> {
    const door = new FrontDoor(options);
    await new Promise<void>((resolve, reject) => {
      door.#server.once('error', reject);
      door.#server.listen(door.#options.port, door.#options.host, () => {
        door.#server.off('error', reject);
        resolve();
      });
    });
    return door;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    const host = this.#options.host === '0.0.0.0' ? '127.0.0.1' : this.#options.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  /** The master the registry names now (cached briefly). */
  master(): Promise<LocalMasterRecord | null> {
    const cached = this.#cached;
    if (cached && Date.now() - cached.at < this.#options.cacheMs) {
      return Promise.resolve(cached.record);
    }
    this.#reading ??= readLocalMaster(this.#options.registryPath).then((record) => {
      this.#cached = { record, at: Date.now() };
      this.#reading = null;
      if ((record?.url ?? null) !== this.#routedTo) {
        this.#routedTo = record?.url ?? null;
        if (record) this.#logger.info({ master: record.pod, url: record.url }, 'routing to master');
        else this.#logger.info('no master in the registry');
      }
      return record;
    });
    return this.#reading;
  }

  /** Stops listening and cuts proxied connections (WebSockets included); idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
      for (const socket of this.#sockets) socket.destroy();
      this.#proxy.close();
    });
    return this.#closing;
  }

  async #web(req: IncomingMessage, res: ServerResponse, retried: boolean): Promise<void> {
    const master = await this.master();
    if (!master) {
      answer(res, 503, NO_MASTER);
      return;
    }
    // Requests without a body can be sent again when the master just changed: GETs, and the
    // HEAD and OPTIONS a resumable upload asks its offset and the server's limits with.
    const replayable = !retried && ['GET', 'HEAD', 'OPTIONS'].includes(req.method ?? '');
    const options = retried
      ? { target: master.url, buffer: Readable.from([]) }
      : { target: master.url };
    this.#proxy.web(req, res, options, (err) => {
      this.#cached = null;
      (async () => {
        if (req.socket.destroyed) return; // the client left; nobody to answer
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (replayable && isConnectError(err)) {
          const next = await this.master();
          if (next && next.url !== master.url) {
            await this.#web(req, res, true);
            return;
          }
        }
        this.#logger.warn({ master: master.pod, err: err.message }, 'master did not answer');
        answer(
          res,
          503,
          `The master ${master.pod} at ${master.url} did not answer (${errCode(err)}); ` +
            'a new master may be taking over. Retry in a moment.',
        );
      })().catch((retryErr: unknown) => {
        this.#logger.error({ err: errorMessage(retryErr) }, 'cannot route request');
        if (!res.headersSent) answer(res, 502, 'The front door cannot reach the master.');
      });
    });
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // A browser that goes away must not take the launcher down with an unhandled error.
    socket.on('error', (err) => this.#logger.debug({ err: err.message }, 'client socket error'));
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const master = await this.master();
    if (!master) {
      rawAnswer(socket, 503, NO_MASTER);
      return;
    }
    this.#proxy.ws(req, socket, head, { target: master.url }, (err) => {
      this.#cached = null;
      if (this.#upgraded.has(socket)) {
        // The master went away mid-conversation: the browser reconnects and finds the new one.
        socket.destroy();
        return;
      }
      this.#logger.warn({ master: master.pod, err: err.message }, 'WebSocket to master failed');
      rawAnswer(socket, 503, `The master ${master.pod} did not answer (${errCode(err)}).`);
    });
  }
}

function isConnectError(err: Error): boolean {
  return ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND'].includes(errCode(err));
}

function errCode(err: Error): string {
  return (err as NodeJS.ErrnoException).code ?? err.message;
}

function answer(res: ServerResponse, status: number, sentence: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Retry-After': '1',
  });
  res.end(JSON.stringify({ error: sentence }));
}

/** An HTTP answer written straight to an upgrade socket (no ServerResponse exists there). */
function rawAnswer(socket: Duplex, status: number, sentence: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: sentence });
  socket.end(
    `HTTP/1.1 ${status} Service Unavailable\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Retry-After: 1\r\nConnection: close\r\n\r\n' +
      body,
  );
}
