// Live settings: `/config/mapreduce_params` (tasks_per_job) as the master reads it, with the
// value each pod has converged to, changed through PUT /api/config (behind the token like all
// of the API). Pods apply a change when their ZooKeeper watch fires, so for a moment some still
// show the previous version: that is the eventual consistency the demo shows.
import { apiFetch } from './auth.js';
import { $, el } from './dom.js';

const EVERY_MS = 3000;

export function initSettings() {
  $('settings-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('tasks-per-job').value.trim();
    void save({ tasks_per_job: text === '' ? null : Number(text) });
  });
  $('settings-default').addEventListener('click', () => void save({ tasks_per_job: null }));
  void refresh();
  window.setInterval(() => void refresh(), EVERY_MS);
}

async function refresh() {
  try {
    const res = await apiFetch('/api/config', { cache: 'no-store' });
    if (res.ok) render(await res.json());
  } catch {
    // Between masters: the next tick asks again.
  }
}

async function save(changes) {
  const error = $('settings-error');
  error.hidden = true;
  try {
    const res = await apiFetch('/api/config', {
      method: 'PUT',
      cache: 'no-store',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(changes),
    });
    const body = await res.json().catch(() => ({}));
    if (res.ok) {
      render(body, true);
      return;
    }
    error.textContent = body.error || `The server answered ${res.status}.`;
  } catch {
    error.textContent = 'The cluster could not be reached; try again in a moment.';
  }
  error.hidden = false;
}

function render(view, saved = false) {
  const value = view.params?.tasks_per_job;
  $('settings-current').textContent =
    value === undefined ? 'one task per pod (default)' : `${value} tasks per job phase`;
  $('settings-current').dataset.version = String(view.version ?? '');
  const input = $('tasks-per-job');
  if (saved || document.activeElement !== input) input.value = value === undefined ? '' : value;
  $('settings-pods').replaceChildren(
    ...view.pods.map((p) => {
      const tr = el('tr');
      tr.dataset.pod = p.pod;
      tr.dataset.converged = String(p.converged);
      const applied = p.params ? (p.params.tasks_per_job ?? 'default') : 'not reported';
      tr.append(
        el('td', '', p.pod),
        el('td', '', applied),
        el('td', '', p.version === undefined || p.version === null ? '—' : `v${p.version}`),
        el('td', p.converged ? 'good' : 'warn', p.converged ? 'up to date' : 'not yet'),
      );
      return tr;
    }),
  );
}
