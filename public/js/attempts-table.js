// The selected job's task attempts as a table: task, phase, pod, thread, start, duration,
// outcome and error, one row per attempt, in the order they were claimed. A row and its bar in
// the timeline select each other, and each row's log lines are one click away.
import { $, el, formatDuration } from './dom.js';
import { filterLogs } from './logs.js';

const PHASE = { histogram: 'map', equalize: 'equalize', assemble: 'stitch' };
let selectedKey = null;

export const attemptKey = (a) => `${a.kind}/${a.index}/${a.attempt}/${a.pod}`;

/**
 * `thread`: the pool thread (its `worker_threads.threadId` on that pod) that did a finished
 * attempt's work, so attempts of one pod that ran side by side show which thread each had.
 */
export function renderAttempts(attempts, jobId) {
  const list = Array.isArray(attempts) ? [...attempts] : [];
  list.sort(
    (a, b) =>
      Date.parse(a.claimedAt) - Date.parse(b.claimedAt) ||
      a.kind.localeCompare(b.kind) ||
      a.index - b.index,
  );
  $('attempts-wrap').hidden = list.length === 0;
  const now = Date.now();
  $('attempts')
    .querySelector('tbody')
    .replaceChildren(...list.map((a) => row(a, jobId, now)));
  if (selectedKey) markSelected(selectedKey, false);
}

function row(a, jobId, now) {
  const tr = el('tr');
  const key = attemptKey(a);
  tr.dataset.key = key;
  tr.dataset.outcome = a.outcome;
  const start = Date.parse(a.claimedAt);
  const end = Date.parse(a.completedAt ?? '') || (a.outcome === 'running' ? now : NaN);
  const task = `${a.kind} ${a.index}${a.attempt > 1 ? ` (attempt ${a.attempt})` : ''}`;
  const logs = el('button', 'link-button', 'Log lines');
  logs.type = 'button';
  logs.title = `Show the log lines of ${a.kind} task ${a.index} of this job`;
  logs.addEventListener('click', (event) => {
    event.stopPropagation();
    filterLogs(`job=${jobId} task=${a.kind}/${a.index}`);
    $('logs-title').scrollIntoView({ block: 'start' });
  });
  const logCell = el('td');
  logCell.append(logs);
  tr.append(
    el('td', '', task),
    el('td', '', PHASE[a.kind] ?? a.kind),
    el('td', '', a.pod),
    el('td', '', Number.isInteger(a.thread) ? String(a.thread) : ''),
    el('td', '', Number.isFinite(start) ? new Date(start).toLocaleTimeString() : ''),
    el('td', '', Number.isFinite(end) ? formatDuration(end - start) : ''),
    el('td', `outcome ${a.outcome}`, a.outcome),
    el('td', 'error', a.error ?? ''),
    logCell,
  );
  tr.addEventListener('click', () => selectAttempt(key, false));
  return tr;
}

/** Selects an attempt's row and bar; `scroll` brings the row into view (a bar was clicked). */
export function selectAttempt(key, scroll = true) {
  selectedKey = key;
  markSelected(key, scroll);
}

function markSelected(key, scroll) {
  for (const node of document.querySelectorAll('#attempts tr.selected, #timeline .bar.selected'))
    node.classList.remove('selected');
  const tr = [...$('attempts').querySelectorAll('tbody tr')].find((r) => r.dataset.key === key);
  const bar = [...$('timeline').querySelectorAll('.bar')].find((b) => b.dataset.key === key);
  tr?.classList.add('selected');
  tr?.setAttribute('aria-selected', 'true');
  bar?.classList.add('selected');
  if (scroll) tr?.scrollIntoView({ block: 'nearest' });
}
