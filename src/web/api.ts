import express, { Router, type RequestHandler } from 'express';
import { JOB_ID } from '../jobs/paths.js';
import type { WebDeps } from './deps.js';
import { artifactPresence } from './artifact-presence.js';
import { clusterView } from './cluster-view.js';
import type { ClusterHistory } from './health/cluster-history.js';
import { healthRouter } from './health/health-routes.js';
import { HttpError } from './http-errors.js';
import { inboxSubmitHandler } from './inbox.js';
import { jobActionsRouter } from './job-actions.js';
import { jobArtifactsRouter } from './job-artifacts.js';
import { listPage, parseJobListQuery, wantsPage } from './job-list.js';
import { settingsRouter } from './settings.js';

/** The JSON API the page and scripts read: jobs (with which artifacts exist) and the cluster. */
export function apiRouter(
  deps: WebDeps,
  history: ClusterHistory,
  submissionLimit: RequestHandler,
): Router {
  const router = Router();
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  router.get('/jobs', async (req, res) => {
    const query = req.query as Record<string, unknown>;
    if (!wantsPage(query)) {
      res.json(await deps.jobs.list());
      return;
    }
    const parsed = parseJobListQuery(query);
    res.json(listPage(await deps.jobs.list(), parsed));
  });
  // An inbox file is a new job like an upload: the same per-client budget.
  router.post('/jobs', submissionLimit, express.json({ limit: '4kb' }), inboxSubmitHandler(deps));
  router.get('/jobs/:id', async (req, res) => {
    const id = req.params.id;
    const job = JOB_ID.test(id) ? await deps.jobs.get(id) : null;
    if (!job) throw new HttpError(404, `There is no job with id ${JSON.stringify(id)}.`);
    // The page shows previews and histograms as soon as they exist, not only once done.
    res.json({ ...job, artifacts: await artifactPresence(deps.sharedDir, job.id) });
  });
  router.use(jobActionsRouter(deps));
  router.use(settingsRouter(deps));
  router.use(jobArtifactsRouter(deps.sharedDir));
  const cluster = clusterView(deps);
  router.get('/cluster', async (_req, res) => {
    res.json(await cluster());
  });
  router.use(healthRouter(history));
  return router;
}
