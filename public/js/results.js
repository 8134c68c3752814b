// The results of the shown job: before/after previews, both histograms and the download link.
// Each is asked for as soon as the server says it exists (previews and histograms are made
// while the pods equalize, long before the job is done), a few times at most; what cannot be
// loaded is said in one sentence, and the page stops asking. A failure that may pass (no
// answer, or a 5xx while masters change) is asked for once more when the job moves to another
// state or the page reconnects, which bounds the retries by those events: a master failover
// can outlast the backoff, and the new master announces itself and the job's next state.
import { withToken } from './auth.js';
import { fetchWithBackoff } from './backoff.js';
import { drawHistogram } from './charts.js';
import { $, sameOriginUrl } from './dom.js';

const LOG_KEY = 'histeq-hist-log';
/**
 * The job on screen and what has been asked for it: part → 'loading' | 'loaded' | 'failed',
 * and for a failure that may pass, the moment (job state, connection) it happened in
 * (`retryAfter`).
 */
let shown = null;
/** Counts the page's connections to the cluster: a new one may reach a master that answers. */
let connection = 0;

/** Called when the page (re)connects; the next render asks again for what may have passed. */
export function onReconnected() {
  connection++;
}

export function initResults() {
  const toggle = $('hist-log');
  toggle.checked = readLogPreference();
  toggle.addEventListener('change', () => {
    try {
      window.localStorage.setItem(LOG_KEY, toggle.checked ? '1' : '0');
    } catch {
      // Not kept (private mode): the choice still holds for this page.
    }
    drawStats();
  });
  window.addEventListener('resize', () => drawStats());
}

/** Called on every render of the detail: starts whatever has become available. */
export function showResults(d) {
  if (!shown || shown.id !== d.id) reset(d.id);
  const done = d.state === 'done';
  const previews = done || d.artifacts?.previews === true;
  // CLAHE has no global histogram or table to draw: its output depends on position too.
  const stats = !d.options?.clahe && (done || d.artifacts?.stats === true);
  $('results').hidden = !(previews || stats || done);
  $('results-pending').hidden = previews;
  const moment = `${d.state} ${connection}`;
  for (const part of ['previews', 'histograms', 'download']) forgetPassingFailure(part, moment);
  if (previews && !shown.parts.previews) loadPreviews(d.id, moment);
  if (stats && !shown.parts.histograms) loadStats(d.id, moment);
  if (done && d.url && !shown.parts.download) checkDownload(d.id, d.url, moment);
  showLoaded();
}

/**
 * A part that failed for a reason that may pass, in an earlier state of the job or over an
 * earlier connection (`moment`), is asked for again.
 */
function forgetPassingFailure(part, moment) {
  const since = shown.retryAfter[part];
  if (shown.parts[part] !== 'failed' || since === undefined || since === moment) return;
  delete shown.parts[part];
  delete shown.retryAfter[part];
  shown.failures = shown.failures.filter((f) => f.part !== part);
  showFailures();
}

/** Only what has loaded is shown: no broken images or empty charts. */
function showLoaded() {
  const parts = shown?.parts ?? {};
  $('compare').hidden = parts.previews !== 'loaded';
  $('charts').hidden = parts.histograms !== 'loaded';
  $('log-toggle').hidden = parts.histograms !== 'loaded';
  $('download').hidden = parts.download !== 'loaded';
}

function reset(id) {
  if (shown) for (const url of shown.blobUrls) window.URL.revokeObjectURL(url);
  shown = { id, parts: {}, retryAfter: {}, failures: [], stats: null, blobUrls: [] };
  for (const img of [$('preview-in'), $('preview-out')]) {
    img.removeAttribute('src');
    img.classList.remove('loaded');
  }
  for (const canvas of [$('hist-in'), $('hist-out')]) {
    canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
    delete canvas.dataset.drawn;
  }
  $('download').removeAttribute('href');
  showLoaded();
  showFailures();
}

const wanted = (id) => () => shown?.id === id;

async function loadPreviews(id, moment) {
  shown.parts.previews = 'loading';
  const base = `/api/jobs/${encodeURIComponent(id)}/preview`;
  const results = await Promise.all(
    ['in', 'out'].map((which) => fetchWithBackoff(`${base}/${which}`, {}, wanted(id))),
  );
  if (shown?.id !== id) return;
  const failed = results.find((r) => !r.ok);
  if (failed) return fail(id, 'previews', failed, moment);
  const blobs = await Promise.all(results.map((r) => r.res.blob()));
  ['preview-in', 'preview-out'].forEach((name, i) => {
    const img = $(name);
    const url = window.URL.createObjectURL(blobs[i]);
    shown.blobUrls.push(url);
    img.onload = () => img.classList.add('loaded');
    img.src = url;
  });
  shown.parts.previews = 'loaded';
  showLoaded();
}

async function loadStats(id, moment) {
  shown.parts.histograms = 'loading';
  const r = await fetchWithBackoff(`/api/jobs/${encodeURIComponent(id)}/stats`, {}, wanted(id));
  if (shown?.id !== id) return;
  if (!r.ok) return fail(id, 'histograms', r, moment);
  try {
    shown.stats = await r.res.json();
  } catch {
    return fail(id, 'histograms', { status: r.res.status, reason: 'not JSON' }, moment);
  }
  shown.parts.histograms = 'loaded';
  // Shown before drawing: a hidden canvas has no size to draw at.
  showLoaded();
  drawStats();
}

/** A HEAD request, so a refused or missing result is known before the user clicks. */
async function checkDownload(id, url, moment) {
  const href = sameOriginUrl(url);
  if (!href) return;
  shown.parts.download = 'loading';
  const r = await fetchWithBackoff(href, { method: 'HEAD', cache: 'no-store' }, wanted(id));
  if (shown?.id !== id) return;
  if (!r.ok) return fail(id, 'download', r, moment);
  $('download').href = withToken(href);
  shown.parts.download = 'loaded';
  showLoaded();
}

function fail(id, part, r, moment) {
  if (r.cancelled || shown?.id !== id) return;
  shown.parts[part] = 'failed';
  // A 4xx will not change; no answer or a 5xx may, once the cluster has moved on.
  if (r.status === 0 || r.status >= 500) shown.retryAfter[part] = moment;
  shown.failures.push({ part, status: r.status, reason: r.reason });
  showFailures();
}

/** One sentence for everything that could not be loaded. */
function showFailures() {
  const box = $('results-error');
  const list = shown?.failures ?? [];
  box.hidden = list.length === 0;
  if (list.length === 0) {
    box.textContent = '';
    return;
  }
  const names = list.map((f) => f.part);
  const what =
    names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  const statuses = [...new Set(list.map((f) => f.status))];
  const why = statuses.every((s) => s === 0)
    ? 'the cluster did not answer'
    : `the server answered ${statuses.filter(Boolean).join(', ')}`;
  const passing = list.every((f) => shown.retryAfter[f.part] !== undefined);
  const next = passing
    ? '; the page asks again when the job moves on or the page reconnects'
    : ', so the page has stopped asking; reload to try again';
  box.textContent = `The ${what} could not be loaded (${why})${next}.`;
  box.title = list.map((f) => `${f.part}: ${f.reason}`).join('\n');
  box.dataset.failed = names.join(' ');
}

function drawStats() {
  const stats = shown?.stats;
  if (!stats) return;
  const log = $('hist-log').checked;
  drawHistogram($('hist-in'), stats.input, stats.inputCdf, { log });
  drawHistogram($('hist-out'), stats.output, stats.outputCdf, { log });
}

function readLogPreference() {
  try {
    return window.localStorage.getItem(LOG_KEY) === '1';
  } catch {
    return false;
  }
}
