import { createRequire } from 'node:module';
import { dirname } from 'node:path';
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
import type { ResumableUploads } from './tus/resumable-uploads.js';
import { uploadHandler } from './upload.js';
import { uploadRateLimit } from './upload-limit.js';

/** The repository's public/ folder, from dist/src/web/ where this file runs compiled. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));

/** tus-js-client's browser build (window.tus), from node_modules. */
const TUS_CLIENT_DIR = dirname(
  createRequire(import.meta.url).resolve('tus-js-client/dist/tus.min.js'),
);

/** Previews are <img> sources, which cannot send headers: they may carry `?token=`. */
const PREVIEW_PATH = /^\/jobs\/[^/]+\/preview\/[^/]+$/;

/** What the web server owns beyond the app (it starts and stops them). */
export interface AppParts {
  /** The one budget per client for new jobs: POST /upload, POST /api/jobs, tus creations. */
  submissionLimit: RequestHandler;
  resumable: ResumableUploads;
}

/** The one per-client limit on new jobs (express-rate-limit, UPLOAD_RATE_PER_MINUTE). */
export function submissionLimit(deps: WebDeps): RequestHandler {
  return uploadRateLimit(deps.uploadRatePerMinute, { trustProxy: deps.trustProxy !== undefined });
}

/**
 * The express app: probes for every pod first, then the master-only gate, then the UI and API,
 * and JSON answers for unknown routes and errors.
 */
export function createApp(
  deps: WebDeps,
  history: ClusterHistory,
  parts: AppParts,
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
  app.post('/upload', requireToken(token), parts.submissionLimit, uploadHandler(deps));
  app.get(
    '/download/:file',
    requireToken(token, { allowQuery: () => true }),
    downloadHandler(deps.sharedDir),
  );
  app.use('/api', requireToken(token, { allowQuery: (path) => PREVIEW_PATH.test(path) }));
  app.use('/api', parts.resumable.router);
  app.use('/api', apiRouter(deps, history, parts.submissionLimit));
  // The page's tus client, served from the installed package like /socket.io/socket.io.js.
  app.use('/vendor', express.static(TUS_CLIENT_DIR, { index: false }));
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
