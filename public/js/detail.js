// The selected job: facts, error, before/after previews, histograms and the task timeline.
// Details come from GET /api/jobs/<id> (attempts are read live while the job runs).
import { apiFetch, withToken } from './auth.js';
import { drawHistogram } from './charts.js';
import {
  $,
  el,
  formatBytes,
  formatDuration,
  isActive,
  PHASE_LABELS,
  sameOriginUrl,
} from './dom.js';
import { elapsedMs, jobData, upsertJob } from './jobs.js';
import { renderTimeline } from './timeline.js';

let current = null;
let fetching = false;
let lastFetch = 0;
let again = false;
/** The job whose results are on screen, so previews and charts load once per job. */
let resultsFor = null;
let onDetails = () => {};

export function initDetail(detailsHandler) {
  onDetails = detailsHandler;
  // Timelines of running jobs move even between events (claims, a lost pod).
  window.setInterval(() => {
    const d = current && jobData(current);
    if (d && isActive(d.state)) void refresh();
  }, 2000);
  window.addEventListener('resize', () => {
    if (resultsFor) void loadStats(resultsFor);
  });
}

export function showJob(id) {
  current = id;
  resultsFor = null;
  $('results').hidden = true;
  $('detail-empty').hidden = Boolean(id);
  $('detail-body').hidden = !id;
  if (id) render(jobData(id));
  void refresh(true);
}

/** A job_status event for the shown job: re-read its details, at most about once a second. */
export function jobChanged(id) {
  if (id === current) void refresh(!isActive(jobData(id)?.state));
}

async function refresh(force = false) {
  if (!current) return;
  if (fetching || (!force && Date.now() - lastFetch < 800)) {
    again = true;
    return;
  }
  fetching = true;
  const id = current;
  try {
    const res = await apiFetch(`/api/jobs/${encodeURIComponent(id)}`, { cache: 'no-store' });
    if (res.ok && id === current) {
      const view = upsertJob(await res.json());
      render(view);
      onDetails(view);
    }
  } catch {
    // The master is changing: the next event or tick retries.
  } finally {
    fetching = false;
    lastFetch = Date.now();
    if (again) {
      again = false;
      window.setTimeout(() => void refresh(), 800);
    }
  }
}

function render(d) {
  if (!d) return;
  $('detail-title').textContent = d.name ? `Job: ${d.name}` : `Job ${d.id}`;
  const facts = [
    ['State', PHASE_LABELS[d.state] || d.state],
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
  if (d.phaseMs) {
    const phases = Object.entries(d.phaseMs)
      .filter(([phase]) => phase !== 'queued')
      .map(([phase, ms]) => `${PHASE_LABELS[phase] ?? phase} ${formatDuration(ms)}`);
    if (phases.length) facts.push(['Phases', phases.join(' · ')]);
  }
  if (Array.isArray(d.masters) && d.masters.length) facts.push(['Masters', d.masters.join(' → ')]);
  $('detail-facts').replaceChildren(
    ...facts.flatMap(([k, v]) => [el('dt', '', k), el('dd', '', v)]),
  );
  const error = $('detail-error');
  error.hidden = d.state !== 'failed';
  error.textContent = d.state === 'failed' ? d.error || d.msg || 'The job failed.' : '';
  if (d.state === 'done' && resultsFor !== d.id) showResults(d);
  if (Array.isArray(d.attempts)) renderTimeline(d.attempts, d.masters);
}

function showResults(d) {
  resultsFor = d.id;
  $('results').hidden = false;
  const base = `/api/jobs/${encodeURIComponent(d.id)}`;
  loadImage($('preview-in'), `${base}/preview/in`, d.id);
  loadImage($('preview-out'), `${base}/preview/out`, d.id);
  const link = $('download');
  const href = d.url ? sameOriginUrl(d.url) : null;
  link.hidden = !href;
  if (href) link.href = withToken(href);
  void loadStats(d.id);
}

/** A preview may still be being written when the page asks: retry a few times. */
function loadImage(img, url, id, tries = 0) {
  img.onerror = () => {
    if (resultsFor === id && tries < 8) {
      window.setTimeout(() => loadImage(img, url, id, tries + 1), 750);
    }
  };
  img.onload = () => img.classList.add('loaded');
  img.classList.remove('loaded');
  img.src = withToken(tries ? `${url}?try=${tries}` : url);
}

async function loadStats(id, tries = 0) {
  try {
    const res = await apiFetch(`/api/jobs/${encodeURIComponent(id)}/stats`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const stats = await res.json();
    if (resultsFor !== id) return;
    drawHistogram($('hist-in'), stats.input, stats.inputCdf);
    drawHistogram($('hist-out'), stats.output, stats.outputCdf);
  } catch {
    if (resultsFor === id && tries < 8) window.setTimeout(() => void loadStats(id, tries + 1), 750);
  }
}
