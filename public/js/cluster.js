// The cluster: every pod with its role, health and current tasks, the master marked, the
// ZooKeeper state, and alerts as they are raised and cleared.
import { $, el } from './dom.js';

let snapshot = null;
/** pod → task names running there, from the shown job's live attempts. */
let running = new Map();

export function renderCluster(next) {
  if (!next || !Array.isArray(next.pods)) return;
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

export function setRunningTasks(attempts) {
  running = new Map();
  for (const a of Array.isArray(attempts) ? attempts : []) {
    if (a.outcome !== 'running') continue;
    const list = running.get(a.pod) ?? [];
    list.push(`${a.kind} ${a.index}`);
    running.set(a.pod, list);
  }
  if (snapshot) renderCluster(snapshot);
}

function podRow(pod, snap) {
  const row = el('tr');
  const isMaster = pod.pod === snap.master || pod.role === 'master';
  row.dataset.role = isMaster ? 'master' : 'worker';
  const name = el('td', 'pod-name', pod.pod);
  if (isMaster) name.append(el('span', 'badge', '★ master'));
  const tasks = Array.isArray(pod.tasks)
    ? pod.tasks.map((t) => t.split('/').slice(1).join(' '))
    : (running.get(pod.pod) ?? []);
  const health = el('td', 'health', 'live');
  health.dataset.health = 'live';
  const started = pod.startedAt ? new Date(pod.startedAt).toLocaleTimeString() : '';
  row.append(
    name,
    el('td', '', isMaster ? 'master' : 'worker'),
    health,
    el('td', 'tasks', tasks.length ? tasks.join(', ') : 'idle'),
    el('td', '', started),
  );
  return row;
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
