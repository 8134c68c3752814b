import express, { Router } from 'express';
import type { WebDeps } from './deps.js';
import { HttpError } from './http-errors.js';
import { parseJobOptions } from './upload.js';
import { JOB_ID } from '../jobs/paths.js';
import type { JobOptions } from '../jobs/types.js';

/** Job ids are server-made: anything else is not worth a ZooKeeper read. */
export function checkJobId(id: string): string {
  if (!JOB_ID.test(id)) throw new HttpError(404, `There is no job with id ${JSON.stringify(id)}.`);
  return id;
}

/**
 * What an operator does to a job: cancel, retry (optionally with other options: a re-run) and
 * delete. The job service decides what a job's state allows (409 otherwise).
 */
export function jobActionsRouter(deps: WebDeps): Router {
  const router = Router();
  router.post('/jobs/:id/cancel', async (req, res) => {
    const view = await deps.jobs.cancel(checkJobId(req.params.id));
    deps.logger.info({ jobId: view.id }, 'job cancelled');
    // 202: the record says cancelled now; the cleanup of tasks and files follows.
    res.status(202).json(view);
  });
  router.post('/jobs/:id/retry', express.json({ limit: '4kb' }), async (req, res) => {
    const id = checkJobId(req.params.id);
    const options = await retryOptions(deps, id, req.body as unknown);
    const { id: jobId } = await deps.jobs.retry(id, options);
    deps.logger.info({ jobId, retryOf: id, options }, 'job retried');
    res.status(202).json({ job_id: jobId });
  });
  router.delete('/jobs/:id', async (req, res) => {
    const id = checkJobId(req.params.id);
    await deps.jobs.remove(id);
    deps.logger.info({ jobId: id }, 'job deleted');
    // Other open pages drop it from their list and detail.
    deps.events.emit('job_deleted', { id });
    res.status(204).end();
  });
  return router;
}

/**
 * A retry's body may change the options (same fields and rules as the upload form); what it
 * leaves out is kept from the original job.
 */
async function retryOptions(
  deps: WebDeps,
  id: string,
  body: unknown,
): Promise<JobOptions | undefined> {
  if (body === undefined || body === null || (isPlainObject(body) && !Object.keys(body).length))
    return undefined;
  if (!isPlainObject(body))
    throw new HttpError(400, 'A retry body must be a JSON object such as {"mode": "luma"}.');
  const job = await deps.jobs.get(id);
  if (!job) throw new HttpError(404, `There is no job with id ${JSON.stringify(id)}.`);
  return parseJobOptions({ ...asFields(job.options), ...asFields(body) });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The form's view of options: every value a string, as a browser would send it. */
export function asFields(values: object): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null) fields[key] = String(value);
  }
  return fields;
}
