import { readdir, rm } from 'node:fs/promises';
import type { Logger } from '../../common/log.js';
import type { ZkSession } from '../../coordination/index.js';
import { jobFiles } from '../job-files.js';
import { jobPath, TASK_KINDS, tasksPath, type SharedLayout } from '../paths.js';
import type { JobRecord } from '../types.js';
import { removeJobTasks } from './phase-tasks.js';
import { removeResults } from './retention.js';

/** Finished jobs keep only their record: task znodes and work files go. Idempotent. */
export async function cleanUpJob(
  session: ZkSession,
  shared: SharedLayout,
  job: JobRecord,
  log: Logger,
): Promise<void> {
  await removeJobTasks(
    session,
    TASK_KINDS.map((kind) => tasksPath(job.id, kind)),
  );
  await rm(shared.abs(jobFiles(shared, job.id).dir), { recursive: true, force: true });
  // Half-written results and previews of a master that died while writing them.
  const results = await readdir(shared.results).catch(() => [] as string[]);
  for (const name of results.filter((n) => n.startsWith(`${job.id}.`) && n.endsWith('.tmp'))) {
    await rm(`${shared.results}/${name}`, { force: true });
  }
  // A cancelled job gets no result, even one published just before the cancel landed.
  if (job.state === 'cancelled') await removeResults(shared.results, job.id);
  log.debug({ path: jobPath(job.id) }, 'job cleaned up');
}
