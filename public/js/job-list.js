// Which jobs the list shows: a state tab (with counts), a search over names and ids, and pages
// of 50, newest first, all answered by GET /api/jobs. Live events redraw the jobs on the page;
// a new job or a change of state reloads the page (at most about once a second), so the tabs'
// counts and the order stay right without the page holding every job.
import { apiFetch } from './auth.js';
import { $, isActive } from './dom.js';
import { showPage } from './jobs.js';
import { jobData, onJobChange, onJobRemoved, upsertJob } from './store.js';

const PAGE = 50;
const TABS = [
  ['', 'All', 'all'],
  ['active', 'Running', 'active'],
  ['done', 'Done', 'done'],
  ['failed', 'Failed', 'failed'],
  ['cancelled', 'Cancelled', 'cancelled'],
];

const view = { state: '', q: '', cursors: [null] };
let loading = null;
let reloadTimer = null;
let lastStates = new Map();

export function initJobList() {
  const tabs = $('job-tabs');
  for (const [state, label] of TABS) {
    const tab = document.createElement('button');
    tab.type = 'button';
    tab.className = 'job-tab';
    tab.dataset.state = state;
    tab.setAttribute('role', 'tab');
    tab.append(label, ' ', Object.assign(document.createElement('span'), { className: 'count' }));
    tab.addEventListener('click', () => {
      view.state = state;
      view.cursors = [null];
      void loadJobList();
    });
    tabs.append(tab);
  }
  let typing = null;
  $('job-search').addEventListener('input', (event) => {
    window.clearTimeout(typing);
    typing = window.setTimeout(() => {
      view.q = event.target.value.trim();
      view.cursors = [null];
      void loadJobList();
    }, 250);
  });
  $('jobs-newer').addEventListener('click', () => {
    if (view.cursors.length > 1) view.cursors.pop();
    void loadJobList();
  });
  $('jobs-older').addEventListener('click', () => {
    const next = $('jobs-older').dataset.cursor;
    if (!next) return;
    view.cursors.push(next);
    void loadJobList();
  });
  onJobChange((d, isNew) => {
    const before = lastStates.get(d.id);
    lastStates.set(d.id, d.state);
    if (isNew || (before !== undefined && before !== d.state)) scheduleReload();
  });
  onJobRemoved(() => scheduleReload());
}

function scheduleReload() {
  if (reloadTimer) return;
  reloadTimer = window.setTimeout(() => {
    reloadTimer = null;
    void loadJobList();
  }, 1000);
}

/** Loads the page the list is on; resolves when it is shown (or the request failed). */
export function loadJobList() {
  loading ??= load().finally(() => {
    loading = null;
  });
  return loading;
}

async function load() {
  const params = new window.URLSearchParams({ limit: String(PAGE) });
  if (view.state) params.set('state', view.state);
  if (view.q) params.set('q', view.q);
  const cursor = view.cursors.at(-1);
  if (cursor) params.set('cursor', cursor);
  const res = await apiFetch(`/api/jobs?${params}`, { cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const page = await res.json();
  for (const job of page.jobs) {
    upsertJob(job);
    lastStates.set(job.id, jobData(job.id)?.state);
  }
  // Events of jobs off this page are not kept track of once they end.
  lastStates = new Map([...lastStates].filter(([id, state]) => isActive(state) || jobData(id)));
  showPage(
    page.jobs.map((j) => j.id),
    view.q || view.state ? 'No jobs match.' : 'No jobs yet.',
  );
  renderControls(page);
}

function renderControls(page) {
  for (const tab of $('job-tabs').children) {
    const [, , key] = TABS.find(([state]) => state === tab.dataset.state);
    tab.querySelector('.count').textContent = String(page.counts[key] ?? 0);
    const on = tab.dataset.state === view.state;
    tab.setAttribute('aria-selected', String(on));
    tab.classList.toggle('selected', on);
  }
  const first = (view.cursors.length - 1) * PAGE;
  $('jobs-range').textContent =
    page.total === 0 ? '' : `${first + 1}–${first + page.jobs.length} of ${page.total}`;
  $('jobs-newer').disabled = view.cursors.length <= 1;
  $('jobs-older').disabled = !page.next;
  $('jobs-older').dataset.cursor = page.next ?? '';
}
