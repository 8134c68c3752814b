// The minimal page: upload, live job progress and the cluster view over Socket.IO.
// Every string from the server is inserted with textContent, never as HTML.

const $ = (id) => document.getElementById(id);
const PHASES = {
  queued: 'Queued',
  mapping: 'Histograms',
  reducing: 'Building the lookup table',
  equalizing: 'Equalizing',
  stitching: 'Stitching',
  done: 'Done',
  failed: 'Failed',
};

/** Job id → the elements of its list item. */
const jobViews = new Map();

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Only links back to this origin are offered (a result is always served by the master). */
function sameOriginUrl(url) {
  try {
    const parsed = new window.URL(url, window.location.href);
    return parsed.origin === window.location.origin ? parsed.href : null;
  } catch {
    return null;
  }
}

function jobView(id, name) {
  let view = jobViews.get(id);
  if (view) return view;
  const item = el('li', 'job');
  item.dataset.jobId = id;
  const title = el('div', 'title');
  const nameEl = el('span', 'name', name || id);
  const state = el('span', 'state');
  title.append(nameEl, state);
  const progress = el('progress');
  progress.max = 1;
  progress.value = 0;
  const detail = el('div', 'detail');
  const error = el('div', 'error');
  const link = el('a', 'download', 'Download result');
  link.hidden = true;
  link.setAttribute('download', '');
  item.append(title, progress, detail, error, link);
  $('jobs').prepend(item);
  $('no-jobs').hidden = true;
  view = { item, nameEl, state, progress, detail, error, link };
  jobViews.set(id, view);
  return view;
}

function renderJob(status) {
  if (!status || typeof status.id !== 'string') return;
  const view = jobView(status.id, status.name);
  if (status.name) view.nameEl.textContent = status.name;
  view.state.textContent = PHASES[status.state] || status.state;
  view.state.dataset.state = status.state;
  const total = Number(status.total) || 0;
  const done = Number(status.done) || 0;
  if (status.state === 'done') {
    view.progress.max = 1;
    view.progress.value = 1;
  } else if (total > 0) {
    view.progress.max = total;
    view.progress.value = Math.min(done, total);
  } else {
    view.progress.removeAttribute('value'); // indeterminate while there are no tasks to count
  }
  const phase = PHASES[status.phase] || status.phase;
  if (status.state === 'done') view.detail.textContent = status.msg || '';
  else if (status.state === 'failed') view.detail.textContent = `Failed while: ${phase}`;
  else {
    const counts = total > 0 ? ` ${done}/${total}` : '';
    view.detail.textContent = [`${phase}${counts}`, status.msg].filter(Boolean).join(' — ');
  }
  view.error.textContent = status.state === 'failed' ? status.error || 'The job failed.' : '';
  const href = status.url ? sameOriginUrl(status.url) : null;
  view.link.hidden = !(status.state === 'done' && href);
  if (href) view.link.href = href;
}

function renderCluster(snapshot) {
  if (!snapshot || !Array.isArray(snapshot.pods)) return;
  const master = snapshot.master || 'none yet';
  const zk = snapshot.zk ? `, ZooKeeper ${snapshot.zk.state}` : '';
  $('cluster-summary').textContent = `${snapshot.pods.length} pods, master ${master}${zk}.`;
  const body = $('pods').tBodies[0];
  body.replaceChildren(
    ...snapshot.pods.map((pod) => {
      const row = el('tr');
      row.dataset.role = pod.role;
      const tasks = Array.isArray(pod.tasks) ? pod.tasks.length : 0;
      const started = pod.startedAt ? new Date(pod.startedAt).toLocaleTimeString() : '';
      for (const text of [pod.pod, pod.role, String(pod.pid), String(tasks), started]) {
        row.append(el('td', '', text));
      }
      return row;
    }),
  );
  const alerts = Array.isArray(snapshot.alerts) ? snapshot.alerts : [];
  const active = alerts.find((alert) => alert.status !== 'ok');
  renderAlert(active || { status: 'ok', message: '' });
}

function renderAlert(alert) {
  const box = $('cluster-alert');
  box.hidden = !alert || alert.status === 'ok';
  box.textContent = box.hidden ? '' : alert.message;
}

function setConnection(state, text) {
  const node = $('connection');
  node.dataset.state = state;
  node.textContent = text;
}

function connect() {
  const socket = window.io();
  const retryLater = () => window.setTimeout(() => socket.connect(), 1500);
  socket.on('connect', () => setConnection('connected', 'Live'));
  socket.on('disconnect', (reason) => {
    setConnection('disconnected', 'Disconnected — reconnecting…');
    // The server dropped us (it stopped being master): find the new master via the Service.
    if (reason === 'io server disconnect') retryLater();
  });
  socket.on('connect_error', (err) => {
    setConnection('disconnected', err.message || 'Cannot reach the cluster.');
    // Refused by a worker: the library does not retry that by itself.
    if (!socket.active) retryLater();
  });
  socket.on('job_status', renderJob);
  socket.on('cluster', renderCluster);
  socket.on('cluster_alert', renderAlert);
}

function upload(event) {
  event.preventDefault();
  const file = $('image').files[0];
  const message = $('upload-message');
  if (!file) return;
  const form = new window.FormData();
  form.append('mode', $('mode').value);
  form.append('image', file, file.name);
  const bar = $('upload-progress');
  const button = $('upload-button');
  const request = new window.XMLHttpRequest();
  request.open('POST', '/upload');
  request.responseType = 'json';
  request.upload.addEventListener('progress', (e) => {
    if (e.lengthComputable) bar.value = e.loaded / e.total;
  });
  const finish = (text, isError) => {
    button.disabled = false;
    bar.hidden = true;
    message.textContent = text;
    message.classList.toggle('error', isError);
  };
  request.addEventListener('load', () => {
    const body = request.response || {};
    if (request.status === 200 && body.job_id) {
      jobView(body.job_id, file.name);
      finish(`Uploaded ${file.name}.`, false);
      $('upload-form').reset();
    } else {
      finish(body.error || `The upload failed (HTTP ${request.status}).`, true);
    }
  });
  request.addEventListener('error', () => finish('The upload failed: no answer.', true));
  button.disabled = true;
  bar.value = 0;
  bar.hidden = false;
  message.textContent = `Uploading ${file.name}…`;
  message.classList.remove('error');
  request.send(form);
}

$('upload-form').addEventListener('submit', upload);
connect();
