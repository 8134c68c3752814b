import { join } from 'node:path';
import { Router, type Response } from 'express';
import { previewName, statsName } from '../jobs/master/job-previews.js';
import { JOB_ID } from '../jobs/paths.js';
import { resolveInside, sendInside } from './download.js';
import { HttpError } from './http-errors.js';

/**
 * GET /api/jobs/:id/preview/(in|out) and /api/jobs/:id/stats: the dashboard's before/after
 * previews and histograms. The file name is built from a validated job id and a fixed suffix,
 * so a request can never name another file; the real path must still be inside results/.
 */
export function jobArtifactsRouter(sharedDir: string): Router {
  const resultsDir = join(sharedDir, 'results');
  const router = Router();

  const send = async (id: string, name: string, res: Response) => {
    if (!JOB_ID.test(id)) throw new HttpError(400, 'That is not a job id.');
    const found = await resolveInside(resultsDir, name);
    if (!found) throw new HttpError(404, `Job ${id} has no ${describe(name)} yet.`);
    await sendInside(res, found);
  };

  router.get('/jobs/:id/preview/:which', async (req, res) => {
    const which = req.params.which;
    if (which !== 'in' && which !== 'out') {
      throw new HttpError(404, 'A preview is either "in" (the upload) or "out" (the result).');
    }
    await send(req.params.id, previewName(req.params.id, which), res);
  });
  router.get('/jobs/:id/stats', async (req, res) => {
    await send(req.params.id, statsName(req.params.id), res);
  });
  return router;
}

function describe(name: string): string {
  if (name.endsWith('.in.png')) return 'input preview';
  if (name.endsWith('.out.png')) return 'result preview';
  return 'histogram statistics';
}
