import { isFinished, type JobPhase, type JobRecord, type JobState } from '../types.js';

/**
 * The record of a job moved from its state to `to` at `now`: the phase it leaves gets its
 * duration, the one it enters its start time, and the progress count starts again.
 */
export function movedTo(
  r: JobRecord,
  to: JobState,
  patch: Partial<JobRecord>,
  now: Date,
): JobRecord {
  const phaseMs = { ...r.phaseMs };
  const started = r.phaseStartedAt[r.state];
  if (started && !isFinished(r.state)) {
    phaseMs[r.state as JobPhase] = now.getTime() - Date.parse(started);
  }
  return {
    ...r,
    ...patch,
    state: to,
    phase: isFinished(to) ? r.phase : (to as JobPhase),
    done: 0,
    phaseMs,
    phaseStartedAt: { ...r.phaseStartedAt, [to]: now.toISOString() },
  };
}
