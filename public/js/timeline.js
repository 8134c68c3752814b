// The task timeline: one lane per pod, one bar per task attempt from claim to completion, so a
// reassigned task shows as a lost attempt on one pod and a later one on another.
import { $, el, formatDuration } from './dom.js';

export function renderTimeline(attempts, masters) {
  const box = $('timeline');
  const list = Array.isArray(attempts) ? attempts : [];
  $('timeline-empty').hidden = list.length > 0;
  if (list.length === 0) {
    box.replaceChildren();
    return;
  }
  const now = Date.now();
  const spans = list.map((a) => {
    const start = Date.parse(a.claimedAt) || now;
    const end = Date.parse(a.completedAt ?? '') || (a.outcome === 'running' ? now : start);
    return { a, start, end: Math.max(end, start) };
  });
  const t0 = Math.min(...spans.map((s) => s.start));
  const t1 = Math.max(t0 + 1, ...spans.map((s) => s.end));
  const range = t1 - t0;
  const pods = [...new Set(list.map((a) => a.pod))].sort();
  const lanes = pods.map((pod) => {
    const lane = el('div', 'lane');
    lane.setAttribute('role', 'listitem');
    const mastered = Array.isArray(masters) && masters.includes(pod);
    const label = el('span', 'lane-label', pod);
    if (mastered) label.append(el('span', 'badge', 'master'));
    const track = el('div', 'track');
    const mine = spans.filter((s) => s.a.pod === pod);
    lane.setAttribute('aria-label', `${pod}: ${mine.length} task attempts`);
    for (const { a, start, end } of mine) {
      const bar = el('div', `bar ${a.kind} ${a.outcome}`);
      // CSSOM writes are not inline style attributes: the strict style-src allows them.
      bar.style.left = `${((start - t0) / range) * 100}%`;
      bar.style.width = `${Math.max(0.6, ((end - start) / range) * 100)}%`;
      bar.textContent = `${a.kind === 'histogram' ? 'H' : 'E'}${a.index}`;
      const what = `${a.kind} task ${a.index}, attempt ${a.attempt} on ${a.pod}: ${a.outcome}`;
      const took = a.completedAt ? `, ${formatDuration(end - start)}` : '';
      bar.title = `${what}${took}${a.error ? ` (${a.error})` : ''}`;
      track.append(bar);
    }
    lane.append(label, track);
    return lane;
  });
  const axis = el('div', 'axis');
  axis.append(el('span', '', '0 s'), el('span', '', formatDuration(range)));
  box.replaceChildren(...lanes, axis);
}
