import { fileURLToPath } from 'node:url';
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from '../common/log.js';
import { apiRouter } from './api.js';
import { requireToken } from './auth.js';
import type { WebDeps } from './deps.js';
import { downloadHandler } from './download.js';
import type { ClusterHistory } from './health/cluster-history.js';
import { figuresHandler } from './health/health-routes.js';
import { errorHandler, notFound } from './http-errors.js';
import { masterOnly } from './master-gate.js';
import { metricsHandler, probesRouter } from './probes.js';
import { securityHeaders } from './security-headers.js';
import { uploadHandler } from './upload.js';
import { uploadRateLimit } from './upload-limit.js';

/** The repository's public/ folder, from dist/src/web/ where this file runs compiled. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));

/** Previews are <img> sources, which cannot send headers: they may carry `?token=`. */
const PREVIEW_PATH = /^\/jobs\/[^/]+\/preview\/[^/]+$/;

/**
 * The express app: probes for every pod first, then the master-only gate, then the UI and API,
 * and JSON answers for unknown routes and errors.
 */
export function createApp(
  deps: WebDeps,
  history: ClusterHistory,
  publicDir: string = PUBLIC_DIR,
): Express {
  const logger = deps.logger.child({ component: 'web' });
  const app = express();
  app.disable('x-powered-by');
  // Behind an ingress or load balancer, TRUST_PROXY names the hops whose X-Forwarded-For is
  // believed, so req.ip (and the upload limit's key) is the client, not the proxy.
  if (deps.trustProxy !== undefined) app.set('trust proxy', deps.trustProxy);
  app.use(securityHeaders);
  app.use(requestLog(logger));
  app.use(probesRouter(deps));
  const token = deps.apiToken;
  // With METRICS_PORT the scrape has its own port (web/metrics-server.ts); otherwise it is
  // here, behind the token like the API, so the public port does not describe the cluster.
  if (deps.metricsPort === undefined)
    app.get('/metrics', requireToken(token), metricsHandler(deps));
  // Every pod answers the master's health sampler, behind the token like /metrics.
  app.get('/figures', requireToken(token), figuresHandler(deps));
  // Workers tell only token holders where the master is (master-gate.ts).
  app.use(masterOnly(deps));
  // The static UI stays open so a browser can load the page that asks for the token.
  // The token before the limit: clients without it must not use up the budget of those with it.
  app.post(
    '/upload',
    requireToken(token),
    uploadRateLimit(deps.uploadRatePerMinute, { trustProxy: deps.trustProxy !== undefined }),
    uploadHandler(deps),
  );
  app.get(
    '/download/:file',
    requireToken(token, { allowQuery: () => true }),
    downloadHandler(deps.sharedDir),
  );
  app.use('/api', requireToken(token, { allowQuery: (path) => PREVIEW_PATH.test(path) }));
  app.use('/api', apiRouter(deps, history));
  app.use(express.static(publicDir, { dotfiles: 'ignore', index: 'index.html' }));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}

/** One debug line per request; probes and metrics stay out of the log (they come every second). */
function requestLog(logger: Logger): RequestHandler {
  const quiet = new Set(['/healthz', '/readyz', '/metrics']);
  return (req, res, next) => {
    if (quiet.has(req.path)) {
      next();
      return;
    }
    const started = performance.now();
    res.once('finish', () => {
      logger.debug(
        {
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        },
        'http request',
      );
    });
    next();
  };
}
