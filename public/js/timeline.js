// The task timeline: one lane per pod, one bar per task attempt from claim to completion, so a
// reassigned task shows as a lost attempt on one pod and a later one on another. A pod runs
// several attempts at once (one per pool thread): they go on stacked rows of its lane, so no
// two bars ever overlap. While the job runs, the axis ends at now and grows with the job.
import { attemptKey, selectAttempt } from './attempts-table.js';
import { $, el, formatDuration, isActive } from './dom.js';

/** A bar is at least this wide (percent of the track), so a short attempt stays visible. */
const MIN_WIDTH = 0.6;
const ROW_REM = 1.5;

/** Draws the timeline; returns each attempt's row in its pod's lane (by attemptKey). */
export function renderTimeline(attempts, masters, job) {
  const box = $('timeline');
  const list = Array.isArray(attempts) ? attempts : [];
  $('timeline-empty').hidden = list.length > 0;
  const rows = new Map();
  if (list.length === 0) {
    box.replaceChildren();
    return rows;
  }
  const now = Date.now();
  const running = job ? isActive(job.state) : list.some((a) => a.outcome === 'running');
  const spans = list.map((a) => {
    const start = Date.parse(a.claimedAt) || now;
    const end = Date.parse(a.completedAt ?? '') || (a.outcome === 'running' ? now : start);
    return { a, start, end: Math.max(end, start) };
  });
  const t0 = Math.min(...spans.map((s) => s.start));
  const t1 = Math.max(t0 + 1, running ? now : 0, ...spans.map((s) => s.end));
  const range = t1 - t0;
  for (const s of spans) {
    s.left = ((s.start - t0) / range) * 100;
    s.width = Math.max(MIN_WIDTH, ((s.end - s.start) / range) * 100);
  }
  const pods = [...new Set(list.map((a) => a.pod))].sort();
  const lanes = pods.map((pod) => {
    const mine = spans.filter((s) => s.a.pod === pod);
    const rows = packRows(mine);
    const lane = el('div', 'lane');
    lane.setAttribute('role', 'listitem');
    lane.dataset.pod = pod;
    const label = el('span', 'lane-label', pod);
    if (Array.isArray(masters) && masters.includes(pod))
      label.append(el('span', 'badge', 'master'));
    const track = el('div', 'track');
    track.style.height = `${rows * ROW_REM + 0.1}rem`;
    lane.setAttribute('aria-label', `${pod}: ${mine.length} task attempts`);
    for (const s of mine) track.append(bar(s));
    lane.append(label, track);
    return lane;
  });
  const axis = el('div', 'axis');
  axis.dataset.rangeMs = String(range);
  axis.append(
    el('span', '', '0 s'),
    el('span', '', formatDuration(range / 2)),
    el('span', 'axis-end', running ? `${formatDuration(range)} (now)` : formatDuration(range)),
  );
  box.replaceChildren(...lanes, axis);
  for (const s of spans) rows.set(attemptKey(s.a), s.row);
  return rows;
}

/** Greedy interval packing: each attempt goes on the first row free at its start. */
function packRows(spans) {
  const ends = [];
  for (const s of [...spans].sort((x, y) => x.left - y.left || x.a.index - y.a.index)) {
    let row = ends.findIndex((end) => end <= s.left);
    if (row === -1) row = ends.push(0) - 1;
    ends[row] = s.left + s.width;
    s.row = row;
  }
  return Math.max(1, ends.length);
}

const BAR_LETTER = { histogram: 'H', equalize: 'E', assemble: 'A' };

function bar({ a, start, end, left, width, row }) {
  const node = el('div', `bar ${a.kind} ${a.outcome}`);
  // CSSOM writes are not inline style attributes: the strict style-src allows them.
  node.style.left = `${left}%`;
  node.style.width = `${Math.min(width, 100 - left)}%`;
  node.style.top = `${row * ROW_REM + 0.15}rem`;
  node.dataset.row = String(row);
  node.dataset.key = attemptKey(a);
  node.addEventListener('click', () => selectAttempt(node.dataset.key));
  node.textContent = `${BAR_LETTER[a.kind] ?? '?'}${a.index}`;
  const what = `${a.kind} task ${a.index}, attempt ${a.attempt} on ${a.pod}: ${a.outcome}`;
  const took = a.completedAt ? `, ${formatDuration(end - start)}` : '';
  node.title = `${what}${took}${a.error ? ` (${a.error})` : ''}`;
  return node;
}
