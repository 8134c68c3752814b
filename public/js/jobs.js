// The jobs list: one entry per job from /api/jobs and job_status events, newest first, with a
// progress bar per phase and the elapsed time. Selecting one shows its details.
import { apiFetch } from './auth.js';
import { $, el, formatDuration, isActive, ORDER, PHASE_LABELS } from './dom.js';

/** id → { data: merged status/view fields, view: list item elements } */
const jobs = new Map();
let selected = null;
let onSelect = () => {};

export function initJobs(selectHandler) {
  onSelect = selectHandler;
  // Elapsed times tick while jobs run.
  window.setInterval(() => {
    for (const job of jobs.values()) if (isActive(job.data.state)) renderItem(job);
  }, 1000);
}

export const jobData = (id) => jobs.get(id)?.data ?? null;
export const selectedJob = () => selected;

/** Merges what is known about a job (a job_status event or a JobView) and redraws it. */
export function upsertJob(fields) {
  if (!fields || typeof fields.id !== 'string') return null;
  let job = jobs.get(fields.id);
  if (!job) {
    job = { data: { id: fields.id, firstSeen: Date.now() }, view: createItem(fields.id) };
    jobs.set(fields.id, job);
    placeItem(job);
  }
  // Events and fetched views can cross: never move a job back to an earlier state.
  if (job.data.state && fields.state && rank(fields) < rank(job.data)) {
    fields = { ...fields };
    for (const key of ['state', 'phase', 'done', 'total', 'msg']) delete fields[key];
  }
  // A job_status event has no updatedAt: stamp the moment a job is seen to finish.
  if (!fields.updatedAt && !isActive(fields.state) && isActive(job.data.state ?? 'queued')) {
    job.data.updatedAt = new Date().toISOString();
  }
  Object.assign(job.data, fields);
  renderItem(job);
  $('no-jobs').hidden = jobs.size > 0;
  return job.data;
}

export async function loadJobs() {
  const res = await apiFetch('/api/jobs', { cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const list = await res.json();
  for (const view of list) upsertJob(view);
  if (!selected && list.length > 0) selectJob(list[0].id);
}

export function selectJob(id, focus = false) {
  selected = id;
  for (const [jobId, job] of jobs) {
    const on = jobId === id;
    job.view.item.classList.toggle('selected', on);
    job.view.button.setAttribute('aria-pressed', String(on));
  }
  onSelect(id);
  if (focus) $('detail-title').focus?.();
}

function createItem(id) {
  const item = el('li', 'job');
  item.dataset.jobId = id;
  const button = el('button', 'job-select');
  button.type = 'button';
  button.setAttribute('aria-pressed', 'false');
  button.addEventListener('click', () => selectJob(id));
  const title = el('span', 'title');
  const name = el('span', 'name');
  const state = el('span', 'state');
  title.append(name, state);
  const phases = el('span', 'phases');
  const bars = {};
  for (const [phase, label] of [
    ['mapping', 'Map'],
    ['equalizing', 'Equalize'],
  ]) {
    const row = el('span', 'phase');
    const caption = el('span', 'phase-label', label);
    const bar = el('progress');
    bar.max = 1;
    bar.value = 0;
    bar.setAttribute('aria-label', `${label} tasks done`);
    const count = el('span', 'phase-count');
    row.append(caption, bar, count);
    phases.append(row);
    bars[phase] = { bar, count };
  }
  const meta = el('span', 'meta');
  const error = el('span', 'error');
  button.append(title, phases, meta, error);
  item.append(button);
  return { item, button, name, state, bars, meta, error };
}

/** Newest first: ids start with the creation time in base 36, so they sort by age. */
function placeItem(job) {
  const list = $('jobs');
  const before = [...list.children].find((li) => li.dataset.jobId < job.data.id);
  list.insertBefore(job.view.item, before ?? null);
}

function renderItem(job) {
  const d = job.data;
  const v = job.view;
  v.name.textContent = d.name || d.id;
  v.state.textContent = PHASE_LABELS[d.state] || d.state || '';
  v.state.dataset.state = d.state || '';
  v.item.dataset.state = d.state || '';
  const reached = ORDER.indexOf(d.state === 'failed' ? d.phase : d.state);
  const total = Number(d.total) || 0;
  for (const [phase, { bar, count }] of Object.entries(v.bars)) {
    const idx = ORDER.indexOf(phase);
    const done =
      d.state === 'done' || reached > idx ? total : reached === idx ? Number(d.done) || 0 : 0;
    bar.max = Math.max(1, total);
    bar.value = Math.min(done, total);
    count.textContent = total > 0 ? `${done}/${total}` : '–';
  }
  const elapsed = elapsedMs(d);
  v.meta.textContent = [
    elapsed === null ? '' : formatDuration(elapsed),
    isActive(d.state) && d.msg ? d.msg : '',
  ]
    .filter(Boolean)
    .join(' · ');
  v.error.textContent = d.state === 'failed' ? d.error || d.msg || 'The job failed.' : '';
}

function rank(d) {
  return d.state === 'failed' ? ORDER.length : ORDER.indexOf(d.state);
}

/** From creation to the last update when finished, to now while running. */
export function elapsedMs(d) {
  const start = Date.parse(d.createdAt ?? '') || d.firstSeen;
  if (!start) return null;
  const end = isActive(d.state) ? Date.now() : Date.parse(d.updatedAt ?? '') || Date.now();
  return Math.max(0, end - start);
}
