// The cluster: every pod with its role, health (ready, serving, when it last reported) and its
// current tasks across all jobs, the master marked, the ZooKeeper state, and alerts as they are
// raised and cleared. `cluster` events say who is a member; GET /api/cluster, read every few
// seconds, adds what the master knows of each pod's health and tasks.
import { apiFetch } from './auth.js';
import { $, el, formatDuration } from './dom.js';
import { jobData } from './store.js';

const POLL_MS = 3000;
let snapshot = null;
/** pod → { health, tasks, at: when the page read it } from the latest GET /api/cluster */
let details = new Map();

export function initCluster() {
  window.setInterval(() => {
    if (document.visibilityState !== 'hidden') void pollCluster();
  }, POLL_MS);
  // "n s ago" keeps counting between polls.
  window.setInterval(() => snapshot && renderCluster(snapshot), 1000);
}

export async function pollCluster() {
  try {
    const res = await apiFetch('/api/cluster', { cache: 'no-store' });
    if (res.ok) renderCluster(await res.json());
  } catch {
    // Between masters: the next poll or reconnect reads it again.
  }
}

export function renderCluster(next) {
  if (!next || !Array.isArray(next.pods)) return;
  if (next.pods.some((p) => p.health)) {
    const at = Date.now();
    details = new Map(next.pods.map((p) => [p.pod, { health: p.health, tasks: p.tasks, at }]));
  }
  snapshot = next;
  const zk = next.zk?.state ?? 'unknown';
  const master = next.master || 'none yet';
  $('cluster-summary').textContent =
    `${next.pods.length} pod${next.pods.length === 1 ? '' : 's'} · master ${master} · ZooKeeper ${zk}`;
  $('cluster-summary').dataset.zk = zk;
  const body = $('pods').tBodies[0];
  body.replaceChildren(...next.pods.map((pod) => podRow(pod, next)));
  for (const alert of Array.isArray(next.alerts) ? next.alerts : []) showAlert(alert, false);
}

function podRow(pod, snap) {
  const row = el('tr');
  row.dataset.pod = pod.pod;
  const isMaster = pod.pod === snap.master || pod.role === 'master';
  row.dataset.role = isMaster ? 'master' : 'worker';
  const name = el('td', 'pod-name', pod.pod);
  if (isMaster) name.append(el('span', 'badge', '★ master'));
  const known = details.get(pod.pod);
  const tasks = known?.tasks ?? pod.tasks ?? [];
  row.append(
    name,
    el('td', '', isMaster ? 'master' : 'worker'),
    healthCell(known),
    el('td', 'tasks', tasks.length ? tasks.map(taskText).join(', ') : 'idle'),
    el('td', '', pod.startedAt ? new Date(pod.startedAt).toLocaleTimeString() : ''),
  );
  return row;
}

/** `ready · serving · 2 s ago`, or what is wrong; only a member of /nodes before the first read. */
function healthCell(known) {
  const cell = el('td', 'health');
  const h = known?.health;
  if (!h) {
    cell.textContent = 'registered (checking…)';
    cell.dataset.health = 'unknown';
    return cell;
  }
  const state = !h.serving ? 'down' : h.ready ? 'ready' : 'not-ready';
  cell.dataset.health = state;
  const parts = [
    h.serving ? (h.ready ? 'ready' : 'not ready') : 'not answering',
    h.serving ? 'serving' : null,
    Number.isFinite(h.lastSeenMsAgo)
      ? `last report ${formatDuration(h.lastSeenMsAgo + (Date.now() - known.at))} ago`
      : 'never reported',
  ].filter(Boolean);
  cell.textContent = parts.join(' · ');
  if (h.reason) cell.title = h.reason;
  return cell;
}

/** `<job>/<kind>/<index>` → `histogram 3 (name)`: tasks of every job, named by their file. */
function taskText(task) {
  const [job, kind, index] = String(task).split('/');
  const name = jobData(job)?.name;
  return `${kind} ${index}${name ? ` (${name})` : ''}`;
}

/** Alerts stay listed (newest first, a few at most); an `ok` one marks the problem resolved. */
export function showAlert(alert, fresh = true) {
  if (!alert || typeof alert.message !== 'string' || !alert.message) return;
  const list = $('alerts');
  if (!fresh && [...list.children].some((li) => li.dataset.message === alert.message)) return;
  const item = el('li', 'alert');
  item.dataset.status = alert.status;
  item.dataset.message = alert.message;
  if (alert.status !== 'ok') item.setAttribute('role', 'alert');
  item.append(el('span', 'time', new Date().toLocaleTimeString()), el('span', '', alert.message));
  list.prepend(item);
  while (list.children.length > 5) list.lastElementChild.remove();
}
