// The jobs list: one entry per job of the page the list shows (job-list.js picks it), newest
// first, with a progress bar per phase (map, equalize, stitch) and the elapsed time. Choosing
// one shows its details.
import { $, el, formatDuration, isActive, ORDER, PHASE_LABELS } from './dom.js';
import { chooseJob, jobLink, onSelect, selectedJob } from './selection.js';
import { elapsedMs, jobData, onJobChange, onJobRemoved, phaseElapsedMs } from './store.js';

/** id → list item elements */
const items = new Map();

export function initJobs() {
  onJobRemoved((id) => {
    items.get(id)?.item.remove();
    items.delete(id);
  });
  onJobChange((data) => render(data));
  onSelect((id) => {
    for (const [jobId, view] of items) {
      const on = jobId === id;
      view.item.classList.toggle('selected', on);
      view.button.setAttribute('aria-current', on ? 'page' : 'false');
    }
  });
  // Elapsed times tick while jobs run.
  window.setInterval(() => {
    for (const id of items.keys()) {
      const d = jobData(id);
      if (d && isActive(d.state)) render(d);
    }
  }, 1000);
}

/** Shows exactly these jobs, in this order (one page of the list). */
export function showPage(ids, emptyText) {
  const wanted = new Set(ids);
  for (const [id, v] of items) {
    if (!wanted.has(id)) {
      v.item.remove();
      items.delete(id);
    }
  }
  const nodes = ids.map((id) => {
    let v = items.get(id);
    if (!v) {
      v = createItem(id);
      items.set(id, v);
      v.item.classList.toggle('selected', id === selectedJob());
    }
    const d = jobData(id);
    if (d) render(d);
    return v.item;
  });
  $('jobs').replaceChildren(...nodes);
  $('no-jobs').hidden = ids.length > 0;
  $('no-jobs').textContent = emptyText;
}

function render(d) {
  const v = items.get(d.id);
  if (!v) return;
  v.name.textContent = d.name || d.id;
  v.state.textContent = PHASE_LABELS[d.state] || d.state || '';
  v.state.dataset.state = d.state || '';
  v.item.dataset.state = d.state || '';
  const reached = ORDER.indexOf(
    d.state === 'failed' || d.state === 'cancelled' ? d.phase : d.state,
  );
  const total = Number(d.total) || 0;
  for (const [phase, { bar, count }] of Object.entries(v.bars)) {
    const idx = ORDER.indexOf(phase);
    if (phase === 'stitching') {
      renderStitch(bar, count, d, reached, idx);
      continue;
    }
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

/**
 * Stitching reports no task counts: while it runs the bar is indeterminate (it animates) and
 * the count says for how long it has been running; done fills it.
 */
function renderStitch(bar, count, d, reached, idx) {
  const running = d.state === 'stitching';
  bar.max = 1;
  if (running) bar.removeAttribute('value');
  else bar.value = d.state === 'done' || reached > idx ? 1 : 0;
  bar.dataset.running = String(running);
  const ms = running ? phaseElapsedMs(d) : null;
  count.textContent = running
    ? ms === null
      ? 'running'
      : formatDuration(ms)
    : d.state === 'done'
      ? 'done'
      : '–';
}

function createItem(id) {
  const item = el('li', 'job');
  item.dataset.jobId = id;
  // A link, so a job can be opened in a new tab or copied; a plain click stays on the page.
  const button = el('a', 'job-select');
  button.href = jobLink(id);
  button.addEventListener('click', (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    chooseJob(id);
  });
  const title = el('span', 'title');
  const name = el('span', 'name');
  const state = el('span', 'state');
  title.append(name, state);
  const phases = el('span', 'phases');
  const bars = {};
  for (const [phase, label] of [
    ['mapping', 'Map'],
    ['equalizing', 'Equalize'],
    ['stitching', 'Stitch'],
  ]) {
    const row = el('span', 'phase');
    row.dataset.phase = phase;
    const caption = el('span', 'phase-label', label);
    const bar = el('progress');
    bar.max = 1;
    bar.value = 0;
    bar.setAttribute('aria-label', phase === 'stitching' ? 'Stitching' : `${label} tasks done`);
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
