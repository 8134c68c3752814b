import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebDeps } from './deps.js';

/**
 * METRICS_PORT: a bare server answering only GET /metrics, for the Prometheus scraper. It is a
 * port of its own so the public Service port never describes the cluster to outsiders; keep it
 * off the Service and reachable from the scraper only (k8s: the pod port, not the Service).
 */
export interface MetricsServer {
  listen(port: number, host: string): Promise<{ port: number }>;
  close(): Promise<void>;
}

export function createMetricsServer(metrics: WebDeps['metrics']): MetricsServer {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res
        .writeHead(404, { 'Content-Type': 'text/plain' })
        .end('Only GET /metrics is served here.\n');
      return;
    }
    metrics().then(
      ({ contentType, body }) =>
        res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' }).end(body),
      () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('Metrics are unavailable.\n'),
    );
  });
  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve({ port: (server.address() as AddressInfo).port });
        });
      });
    },
    close() {
      if (!server.listening) return Promise.resolve();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
