import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, PUBLIC_DIR, submissionLimit } from './app.js';
import type { WebDeps } from './deps.js';
import { ClusterHistory } from './health/cluster-history.js';
import { createMetricsServer } from './metrics-server.js';
import { applySecurityHeaders } from './security-headers.js';
import { createSocketHub } from './socket-hub.js';
import { resumableUploads } from './tus/resumable-uploads.js';

export interface WebServer {
  server: Server;
  /**
   * Resolves with the bound port (useful with port 0), and the metrics port when METRICS_PORT
   * is set (web/metrics-server.ts).
   */
  listen(port: number, host: string): Promise<{ port: number; metricsPort?: number }>;
  /** Drops browser connections and stops listening; idempotent. */
  close(): Promise<void>;
}

export interface WebServerOptions {
  /** Static UI folder; default: the repository's public/. */
  publicDir?: string;
  /** Bound on waiting for in-flight requests when closing; default 5 s. */
  closeTimeoutMs?: number;
  /** A server already bound by `bindHttp` (a pod's url, hence its port, comes first). */
  server?: Server;
}

/**
 * Uploads of hundreds of MiB over a slow link outlast Node's default 5-minute request timeout;
 * an hour still ends a request that is stuck for good. A body that stops making progress is
 * dropped much sooner (UPLOAD_IDLE_TIMEOUT_MS, web/multipart.ts).
 */
const REQUEST_TIMEOUT_MS = 60 * 60_000;
export const STARTING = 'This pod is starting and does not serve requests yet. Retry in a moment.';

/**
 * Binds the port before anything else of a pod exists, because the pod's url (the port, with
 * port 0) is part of its identity in membership and in the master label. Until
 * `createWebServer` takes the server over, every request is answered 503 with the API's
 * `{error}` sentence: a restarted master's process can be reached at its old address (a stale
 * label or registry entry) before a new master is known, and its clients must be told to retry.
 */
export async function bindHttp(port: number, host: string): Promise<Server> {
  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (_req, res) => {
    res.writeHead(503, {
      'content-type': 'application/json; charset=utf-8',
      'retry-after': '1',
      'cache-control': 'no-store',
    });
    res.end(`${JSON.stringify({ error: STARTING })}\n`);
  });
  await listenOn(server, port, host);
  return server;
}

/** Express and Socket.IO on one http server, so both sit behind the same Service port. */
export function createWebServer(deps: WebDeps, options: WebServerOptions = {}): WebServer {
  const history = new ClusterHistory({
    pods: () => deps.cluster().pods,
    self: deps.pod,
    ownFigures: () => deps.figures?.() ?? Promise.reject(new Error('no figures')),
    active: () => deps.role().isMaster,
    token: deps.apiToken,
    sampleMs: deps.healthSampleMs ?? 5_000,
  });
  const limit = submissionLimit(deps);
  const resumable = resumableUploads(deps, limit);
  const app = createApp(
    deps,
    history,
    { submissionLimit: limit, resumable },
    options.publicDir ?? PUBLIC_DIR,
  );
  const server = options.server ?? createServer({ requestTimeout: REQUEST_TIMEOUT_MS });
  server.removeAllListeners('request');
  server.on('request', app);
  const hub = createSocketHub(server, deps);
  // Socket.IO answers its own paths (the client script, polling, handshakes) before express
  // sees them; a listener put first gives those responses the security headers too.
  server.prependListener('request', (_req, res) => applySecurityHeaders(res));
  const metrics = deps.metricsPort === undefined ? null : createMetricsServer(deps.metrics);
  const closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
  let closing: Promise<void> | null = null;

  return {
    server,
    /** A server bound by `bindHttp` stays where it is (`port` is ignored). */
    async listen(port, host) {
      const bound = server.listening
        ? (server.address() as AddressInfo).port
        : await listenOn(server, port, host);
      history.start();
      resumable.start();
      if (!metrics || deps.metricsPort === undefined) return { port: bound };
      return { port: bound, metricsPort: (await metrics.listen(deps.metricsPort, host)).port };
    },
    close() {
      closing ??= (async () => {
        history.stop();
        resumable.stop();
        await hub.close();
        await metrics?.close();
        if (!server.listening) return;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), closeTimeoutMs);
        timer.unref();
        await closed;
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}

function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
