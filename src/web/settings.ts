import express, { Router } from 'express';
import type { WebDeps } from './deps.js';
import { HttpError } from './http-errors.js';

/**
 * GET /api/config: the live settings and each pod's converged value. PUT /api/config with
 * `{"tasks_per_job": 8}` (or null for the default) changes them; like all of /api it needs
 * the token when one is configured.
 */
export function settingsRouter(deps: WebDeps): Router {
  const router = Router();
  router.get('/config', async (_req, res) => {
    res.json(await live(deps).read());
  });
  router.put('/config', express.json({ limit: '4kb' }), async (req, res) => {
    const body = req.body as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError(400, 'Send the settings as a JSON object such as {"tasks_per_job": 8}.');
    }
    const view = await live(deps).write(body as Record<string, unknown>);
    deps.logger.info({ params: view.params, version: view.version }, 'live settings changed');
    res.json(view);
  });
  return router;
}

function live(deps: WebDeps) {
  if (!deps.settings) throw new HttpError(404, 'This server has no live settings.');
  return deps.settings;
}
