// The results of the shown job: before/after previews, both histograms and the download link.
// Each is asked for as soon as the server says it exists (previews and histograms are made
// while the pods equalize, long before the job is done), a few times at most; what cannot be
// loaded is said in one sentence, and the page stops asking.
import { withToken } from './auth.js';
import { fetchWithBackoff } from './backoff.js';
import { drawHistogram } from './charts.js';
import { $, sameOriginUrl } from './dom.js';

const LOG_KEY = 'histeq-hist-log';
/** The job on screen and what has been asked for it: part → 'loading' | 'loaded' | 'failed' */
let shown = null;

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
  if (previews && !shown.parts.previews) loadPreviews(d.id);
  if (stats && !shown.parts.stats) loadStats(d.id);
  if (done && d.url && !shown.parts.download) checkDownload(d.id, d.url);
  showLoaded();
}

/** Only what has loaded is shown: no broken images or empty charts. */
function showLoaded() {
  const parts = shown?.parts ?? {};
  $('compare').hidden = parts.previews !== 'loaded';
  $('charts').hidden = parts.stats !== 'loaded';
  $('log-toggle').hidden = parts.stats !== 'loaded';
  $('download').hidden = parts.download !== 'loaded';
}

function reset(id) {
  if (shown) for (const url of shown.blobUrls) window.URL.revokeObjectURL(url);
  shown = { id, parts: {}, failures: [], stats: null, blobUrls: [] };
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

async function loadPreviews(id) {
  shown.parts.previews = 'loading';
  const base = `/api/jobs/${encodeURIComponent(id)}/preview`;
  const results = await Promise.all(
    ['in', 'out'].map((which) => fetchWithBackoff(`${base}/${which}`, {}, wanted(id))),
  );
  if (shown?.id !== id) return;
  const failed = results.find((r) => !r.ok);
  if (failed) return fail(id, 'previews', failed);
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

async function loadStats(id) {
  shown.parts.stats = 'loading';
  const r = await fetchWithBackoff(`/api/jobs/${encodeURIComponent(id)}/stats`, {}, wanted(id));
  if (shown?.id !== id) return;
  if (!r.ok) return fail(id, 'histograms', r);
  try {
    shown.stats = await r.res.json();
  } catch {
    return fail(id, 'histograms', { status: r.res.status, reason: 'not JSON' });
  }
  shown.parts.stats = 'loaded';
  // Shown before drawing: a hidden canvas has no size to draw at.
  showLoaded();
  drawStats();
}

/** A HEAD request, so a refused or missing result is known before the user clicks. */
async function checkDownload(id, url) {
  const href = sameOriginUrl(url);
  if (!href) return;
  shown.parts.download = 'loading';
  const r = await fetchWithBackoff(href, { method: 'HEAD', cache: 'no-store' }, wanted(id));
  if (shown?.id !== id) return;
  if (!r.ok) return fail(id, 'download', r);
  $('download').href = withToken(href);
  shown.parts.download = 'loaded';
  showLoaded();
}

function fail(id, part, r) {
  if (r.cancelled || shown?.id !== id) return;
  shown.parts[part] = 'failed';
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
  box.textContent = `The ${what} could not be loaded (${why}), so the page has stopped asking; reload to try again.`;
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
