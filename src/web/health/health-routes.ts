import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
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

const settingsBody = z
  .object({
    tasks_per_job: z
      .union([z.number().int().min(1).max(4096), z.null()])
      .describe('strips per job phase; null: one per pod that takes tasks'),
  })
  .strict();

/**
 * The health history (GET /api/cluster/history) and the live settings (GET and PUT
 * /api/settings): `tasks_per_job` in /config/mapreduce_params, with the value each pod has
 * applied, so a change can be watched converging (eventual consistency, for real).
 */
export function healthRouter(deps: WebDeps, history: ClusterHistory): Router {
  const router = Router();
  router.get('/cluster/history', (_req, res) => {
    res.json(history.view());
  });
  router.get('/settings', async (_req, res) => {
    res.json(await settingsView(deps, history));
  });
  router.put('/settings', express.json({ limit: '4kb' }), async (req, res) => {
    if (!deps.settings) throw new HttpError(404, 'Settings cannot be changed on this pod.');
    const parsed = settingsBody.safeParse(req.body);
    if (!parsed.success) {
      throw new HttpError(
        400,
        'Send {"tasks_per_job": N} with N a whole number from 1 to 4096, or null for one task per pod.',
      );
    }
    await deps.settings.write(parsed.data.tasks_per_job);
    res.json(await settingsView(deps, history));
  });
  return router;
}

async function settingsView(deps: WebDeps, history: ClusterHistory) {
  if (!deps.settings) throw new HttpError(404, 'Settings are not available on this pod.');
  const stored = await deps.settings.read();
  const applied = history
    .view()
    .pods.map((row) => ({ pod: row.pod, tasks_per_job: row.figures?.tasksPerJob ?? null }));
  return { tasks_per_job: stored.tasksPerJob, version: stored.version, applied };
}
