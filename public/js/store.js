// The one job state on the page: every job_status event and every fetched view is merged here,
// and the jobs list and the job detail both render from it, so they never disagree.
import { isActive, ORDER } from './dom.js';

/** id → merged status/view fields */
const jobs = new Map();
const listeners = new Set();
const removedListeners = new Set();

export const jobData = (id) => jobs.get(id) ?? null;
export const allJobs = () => [...jobs.values()];

/** Called with (data, isNew) after every change of a job. */
export function onJobChange(listener) {
  listeners.add(listener);
}

/** Called with the id of a job that was deleted. */
export function onJobRemoved(listener) {
  removedListeners.add(listener);
}

/** A deleted job leaves the page's state, and every view forgets it. */
export function removeJob(id) {
  if (!jobs.delete(id)) return;
  for (const listener of removedListeners) listener(id);
}

/** Merges what is known about a job (a job_status event or a JobView) and tells the views. */
export function upsertJob(fields) {
  if (!fields || typeof fields.id !== 'string') return null;
  let data = jobs.get(fields.id);
  const isNew = !data;
  // The phase durations describe the state they were read in; see phaseElapsedMs.
  const phaseMsState = fields.phaseMs ? fields.state : undefined;
  if (!data) {
    data = { id: fields.id, firstSeen: Date.now() };
    jobs.set(fields.id, data);
  }
  // Events and fetched views can cross: never move a job back to an earlier state, nor back
  // to fewer tasks done in the same state.
  if (data.state && fields.state && isOlder(fields, data)) {
    fields = { ...fields };
    for (const key of ['state', 'phase', 'done', 'total', 'msg']) delete fields[key];
  }
  // A running job's attempts only grow: a listed record (it gets them only at the end) or an
  // earlier read must not hide attempts already pushed.
  if (isActive(data.state ?? 'queued') && fewerAttempts(fields, data)) {
    fields = { ...fields };
    delete fields.attempts;
  }
  // A job_status event has no updatedAt: stamp the moment a job is seen to finish.
  if (
    !fields.updatedAt &&
    fields.state &&
    !isActive(fields.state) &&
    isActive(data.state ?? 'queued')
  ) {
    data.updatedAt = new Date().toISOString();
  }
  Object.assign(data, fields);
  if (phaseMsState) data.phaseMsState = phaseMsState;
  for (const listener of listeners) listener(data, isNew);
  return data;
}

function fewerAttempts(next, known) {
  return (
    Array.isArray(next.attempts) &&
    Array.isArray(known.attempts) &&
    next.attempts.length < known.attempts.length
  );
}

function isOlder(next, known) {
  const a = rank(next);
  const b = rank(known);
  return a < b || (a === b && (Number(next.done) || 0) < (Number(known.done) || 0));
}

function rank(d) {
  return d.state === 'failed' || d.state === 'cancelled' ? ORDER.length : ORDER.indexOf(d.state);
}

/** From creation to the last update when finished, to now while running. */
export function elapsedMs(d) {
  const start = Date.parse(d.createdAt ?? '') || d.firstSeen;
  if (!start) return null;
  const end = isActive(d.state) ? Date.now() : Date.parse(d.updatedAt ?? '') || Date.now();
  return Math.max(0, end - start);
}

/**
 * How long the job has been in its current phase, when the view says when it started: the
 * record keeps the durations of finished phases, which add up to the current phase's start.
 */
export function phaseElapsedMs(d) {
  const start = Date.parse(d.createdAt ?? '');
  // Read in an earlier state, they lack the phase that just ended: unknown until re-read.
  if (!start || !d.phaseMs || !isActive(d.state) || d.phaseMsState !== d.state) return null;
  const finished = Object.values(d.phaseMs).reduce((sum, ms) => sum + (Number(ms) || 0), 0);
  return Math.max(0, Date.now() - start - finished);
}
