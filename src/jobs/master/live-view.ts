import type { TaskClaims } from '../../coordination/index.js';
import { collectAttempts } from './attempts.js';
import type { JobStore } from '../job-store.js';
import { ACTIVE_STATES, type JobsApi } from '../types.js';

/**
 * The job service as the web layer sees it, with one addition: `get` of a running job reads
 * its attempts live from the task znodes (the record only gets them when the job ends), so the
 * dashboard's timeline fills in while the pods work and shows reassigned attempts as they happen.
 */
export function withLiveAttempts(
  jobs: JobsApi,
  sources: { store: JobStore; claims: TaskClaims },
): JobsApi {
  return {
    submit: (request) => jobs.submit(request),
    list: () => jobs.list(),
    latest: () => jobs.latest(),
    cancel: (id) => jobs.cancel(id),
    retry: (id, options) => jobs.retry(id, options),
    remove: (id) => jobs.remove(id),
    async get(id) {
      const view = await jobs.get(id);
      if (!view || !ACTIVE_STATES.includes(view.state)) return view;
      try {
        const stored = await sources.store.read(id);
        if (!stored) return view;
        return { ...view, attempts: await collectAttempts(sources.claims, stored.record) };
      } catch {
        // Task znodes vanish as the job ends: the recorded view is the best answer then.
        return view;
      }
    },
  };
}
