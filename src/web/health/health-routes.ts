import { Router, type RequestHandler } from 'express';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http-errors.js';
import type { ClusterHistory } from './cluster-history.js';

/** GET /figures on every pod: its own health figures, for the master's sampler. */
export function figuresHandler(deps: Pick<WebDeps, 'figures'>): RequestHandler {
  return async (_req, res) => {
    if (!deps.figures) throw new HttpError(404, 'This pod does not report figures.');
    res.set('Cache-Control', 'no-store').json(await deps.figures());
  };
}

/** The health history the page draws its charts from (GET /api/cluster/history). */
export function healthRouter(history: ClusterHistory): Router {
  const router = Router();
  router.get('/cluster/history', (_req, res) => {
    res.json(history.view());
  });
  return router;
}
