import type { TaskClaims } from '../../coordination/index.js';
import { TASK_KINDS, taskPath } from '../paths.js';
import type { JobRecord, TaskAttempt } from '../types.js';

/**
 * Every attempt of every task of a job, from the tasks' claim histories and done/failed
 * records: the data of the UI's timeline, kept in the job record once task znodes are gone.
 */
export async function collectAttempts(claims: TaskClaims, job: JobRecord): Promise<TaskAttempt[]> {
  const attempts: TaskAttempt[] = [...job.attempts];
  const seen = new Set(attempts.map((a) => `${a.kind}/${a.index}/${a.attempt}`));
  const tasks = TASK_KINDS.flatMap((kind) =>
    Array.from({ length: kind === 'assemble' ? 1 : job.tasks }, (_, index) => ({ kind, index })),
  );
  // Read in parallel (this runs while the job waits to be marked done), assembled in order.
  const states = await Promise.all(
    tasks.map(({ kind, index }) => claims.read(taskPath(job.id, kind, index))),
  );
  for (const [i, { kind, index }] of tasks.entries()) {
    const state = states[i];
    if (!state) continue;
    const lastError = typeof state.spec.lastError === 'string' ? state.spec.lastError : undefined;
    for (const h of state.spec.history ?? []) {
      const key = `${kind}/${index}/${h.attempt}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const done = state.done?.attempt === h.attempt ? state.done : null;
      const running = state.lock?.attempt === h.attempt;
      attempts.push({
        kind,
        index,
        pod: h.pod,
        attempt: h.attempt,
        claimedAt: h.claimedAt,
        ...(done ? { completedAt: done.completedAt } : {}),
        ...(done?.thread !== undefined ? { thread: done.thread } : {}),
        outcome: done
          ? 'done'
          : running
            ? 'running'
            : h.released
              ? 'released'
              : lastError
                ? 'failed'
                : 'lost',
        ...(!done && !running && !h.released && lastError ? { error: lastError } : {}),
      });
    }
  }
  return attempts;
}
