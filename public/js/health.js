// Cluster health over the last minutes: per-pod figures (tasks, threads, event loop, memory,
// ZooKeeper) and three sparklines drawn from the samples the master keeps.
import { apiFetch } from './auth.js';
import { drawSeries } from './charts.js';
import { $, el, formatBytes, formatDuration } from './dom.js';

const POLL_MS = 5000;

export function initHealth() {
  window.setInterval(() => {
    if (document.visibilityState !== 'hidden') void pollHealth();
  }, POLL_MS);
}

export async function pollHealth() {
  try {
    const history = await apiFetch('/api/cluster/history', { cache: 'no-store' });
    if (history.ok) renderHistory(await history.json());
  } catch {
    // Between masters: the next poll reads it again (a new master starts a new history).
  }
}

function renderHistory(view) {
  const series = view.series;
  $('health-empty').hidden = series.at.length > 0;
  const last = (values) => values.filter((v) => Number.isFinite(v)).at(-1);
  drawSeries($('chart-throughput'), series.megapixelsPerSecond, { unit: ' MP/s' });
  drawSeries($('chart-task-ms'), series.taskMeanMs, { unit: ' ms', digits: 0 });
  drawSeries($('chart-loop'), series.eventLoopDelayMs, { unit: ' ms' });
  const now = (id, v, unit, digits = 1) =>
    ($(id).textContent = Number.isFinite(v) ? `now ${v.toFixed(digits)}${unit}` : '');
  now('now-throughput', last(series.megapixelsPerSecond), ' MP/s');
  now('now-task-ms', last(series.taskMeanMs), ' ms', 0);
  now('now-loop', last(series.eventLoopDelayMs), ' ms');
  $('pod-figures').tBodies[0].replaceChildren(...view.pods.map(figuresRow));
}

function figuresRow({ pod, figures: f, lastHeartbeatMsAgo }) {
  const row = el('tr');
  row.dataset.pod = pod;
  if (!f) {
    row.append(el('td', 'pod-name', pod), el('td', 'muted', 'did not answer the last sample'));
    row.lastElementChild.colSpan = 7;
    return row;
  }
  const zk =
    f.zk.roundTripMs === null
      ? `${f.zk.state}, no answer`
      : `${f.zk.state}, ${f.zk.roundTripMs.toFixed(1)} ms`;
  row.append(
    el('td', 'pod-name', pod),
    el('td', 'num', f.tasks.done),
    el('td', 'num', f.tasks.failed),
    el(
      'td',
      'num',
      `${f.pool.busy} / ${f.pool.threads}${f.pool.queued ? ` (+${f.pool.queued} queued)` : ''}`,
    ),
    el('td', 'num', `${f.eventLoopDelayMs.toFixed(1)} ms`),
    el('td', 'num', formatBytes(f.rssBytes)),
    el('td', '', zk),
    el(
      'td',
      '',
      lastHeartbeatMsAgo === null ? 'never' : `${formatDuration(lastHeartbeatMsAgo)} ago`,
    ),
  );
  return row;
}
