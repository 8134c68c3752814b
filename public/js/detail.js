// The selected job: facts, error and a link of its own, drawn from the page's job state on
// every change (so it always agrees with the list), plus what only GET /api/jobs/<id> has
// (phase durations, masters, which results exist yet), read when the job is chosen, when its
// state changes and, after the LUT, until its previews exist. Its task attempts arrive as
// job_attempts events: they are never polled for.
import { apiFetch } from './auth.js';
import { $, el, formatBytes, formatDuration, isActive, PHASE_LABELS } from './dom.js';
import { showResults } from './results.js';
import { jobLink, onSelect, selectedJob } from './selection.js';
import { elapsedMs, jobData, onJobChange, phaseElapsedMs, upsertJob } from './store.js';
import { renderAttempts } from './attempts-table.js';
import { renderTimeline } from './timeline.js';

let fetching = false;
let again = false;
/** True while a fetched view is merged: that change must not trigger another fetch. */
let merging = false;
/** The selected job's state when its view was last asked for: a new state asks again. */
let askedIn = null;
/** When the view was last asked for, by any cause. */
let lastReadAt = 0;
const ARTIFACTS_POLL_MS = 2000;

export function initDetail() {
  onSelect((id) => {
    $('detail-empty').hidden = Boolean(id);
    $('detail-body').hidden = !id;
    render(jobData(id), id);
    askedIn = jobData(id)?.state ?? null;
    void refresh();
  });
  onJobChange((data) => {
    if (data.id !== selectedJob()) return;
    render(data, data.id);
    // A phase ended (new durations) or the job did (results, final attempts): read again.
    if (merging || data.state === askedIn) return;
    const known = askedIn !== null;
    askedIn = data.state;
    // The first state heard of a job chosen unseen: the read made on choosing is as new.
    if (known) void refresh();
  });
  // The one thing read on a timer: previews and histograms, made once the LUT exists, until
  // the view says they are there; at most every 2 s, counting the reads a state change made.
  window.setInterval(() => {
    const d = jobData(selectedJob());
    if (d && awaitsArtifacts(d) && Date.now() - lastReadAt >= ARTIFACTS_POLL_MS) void refresh();
  }, 250);
  // Timelines and elapsed times of running jobs move even between events.
  window.setInterval(() => {
    const d = jobData(selectedJob());
    if (d && isActive(d.state)) render(d, d.id);
  }, 1000);
}

async function refresh() {
  const id = selectedJob();
  if (!id) return;
  if (fetching) {
    again = true;
    return;
  }
  fetching = true;
  lastReadAt = Date.now();
  try {
    const res = await apiFetch(`/api/jobs/${encodeURIComponent(id)}`, { cache: 'no-store' });
    if (res.ok) {
      const view = await res.json();
      // Merged into the one job state, which redraws the list and this detail.
      merging = true;
      try {
        upsertJob(view);
      } finally {
        merging = false;
      }
    } else if (res.status === 404 && id === selectedJob() && !jobData(id)) {
      $('detail-title').textContent = `Job ${id}`;
      $('detail-error').hidden = false;
      $('detail-error').textContent = `There is no job ${id} (it may have been pruned).`;
    }
  } catch {
    // The master is changing: the reconnect reads the list again, the next state this view.
  } finally {
    fetching = false;
    if (again) {
      again = false;
      void refresh();
    }
  }
}

function awaitsArtifacts(d) {
  const afterLut = isActive(d.state) && d.state !== 'queued' && d.state !== 'mapping';
  return afterLut && !(d.artifacts?.previews && d.artifacts?.stats);
}

function render(d, id) {
  const link = $('detail-link');
  link.hidden = !id;
  if (id) link.href = jobLink(id);
  if (!d) {
    $('detail-title').textContent = id ? `Job ${id}` : 'Job';
    $('detail-facts').replaceChildren();
    return;
  }
  $('detail-title').textContent = d.name ? `Job: ${d.name}` : `Job ${d.id}`;
  $('detail-body').dataset.state = d.state || '';
  const facts = [
    ['State', stateText(d)],
    ['Job id', d.id],
    ['Elapsed', formatDuration(elapsedMs(d) ?? NaN)],
  ];
  if (d.info?.layout) {
    const l = d.info.layout;
    const kind = { 1: 'grey', 2: 'grey + alpha', 3: 'RGB', 4: 'RGBA' }[l.channels] ?? '';
    facts.push([
      'Image',
      `${l.width}×${l.height} ${kind} ${l.depth}-bit ${String(d.info.format).toUpperCase()}, ${formatBytes(d.info.fileBytes)}`,
    ]);
  }
  if (d.options?.mode) facts.push(['Mode', d.options.mode]);
  if (d.options?.clahe) {
    const c = d.options.clahe;
    facts.push(['Method', `CLAHE, clip limit ${c.clipLimit}, ${c.tilesX}×${c.tilesY} tiles`]);
  } else if (d.options) facts.push(['Method', 'global']);
  if (d.phaseMs) {
    const phases = Object.entries(d.phaseMs)
      .filter(([phase]) => phase !== 'queued')
      .map(([phase, ms]) => `${PHASE_LABELS[phase] ?? phase} ${formatDuration(ms)}`);
    if (phases.length) facts.push(['Phases', phases.join(' · ')]);
  }
  if (Array.isArray(d.masters) && d.masters.length) facts.push(['Masters', d.masters.join(' → ')]);
  $('detail-facts').replaceChildren(
    ...facts.flatMap(([k, v]) => {
      const dd = el('dd', '', v);
      if (k === 'State') dd.id = 'detail-state';
      return [el('dt', '', k), dd];
    }),
  );
  const error = $('detail-error');
  error.hidden = d.state !== 'failed';
  error.textContent = d.state === 'failed' ? d.error || d.msg || 'The job failed.' : '';
  showResults(d);
  if (Array.isArray(d.attempts)) {
    renderTimeline(d.attempts, d.masters, d);
    renderAttempts(d.attempts, d.id);
  }
}

/** The state as the list shows it, with the task counts or, while stitching, for how long. */
function stateText(d) {
  const label = PHASE_LABELS[d.state] || d.state || '';
  const total = Number(d.total) || 0;
  if ((d.state === 'mapping' || d.state === 'equalizing') && total > 0) {
    return `${label} (${Number(d.done) || 0}/${total} tasks)`;
  }
  if (d.state === 'stitching') {
    const ms = phaseElapsedMs(d);
    return ms === null ? `${label} (running)` : `${label} (running for ${formatDuration(ms)})`;
  }
  return label;
}
