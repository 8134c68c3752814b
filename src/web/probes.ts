import { Router, type RequestHandler } from 'express';
import type { WebDeps } from './deps.js';

/**
 * Probes answer on every pod, master or worker: Kubernetes restarts a pod whose /healthz fails
 * and takes it out of Services while /readyz fails, so they must not depend on the role.
 */
export function probesRouter(deps: WebDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ ok: true, pod: deps.pod });
  });
  router.get('/readyz', (_req, res) => {
    const { ready, reason } = deps.readiness();
    res
      .status(ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json(ready ? { ready, pod: deps.pod } : { ready, pod: deps.pod, reason });
  });
  return router;
}

/** GET /metrics (Prometheus text), mounted by app.ts or the metrics server. */
export function metricsHandler(deps: Pick<WebDeps, 'metrics'>): RequestHandler {
  return async (_req, res) => {
    const { contentType, body } = await deps.metrics();
    res.set('Content-Type', contentType).set('Cache-Control', 'no-store').send(body);
  };
}
