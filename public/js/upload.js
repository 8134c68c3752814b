// Uploads: a drop zone and a multi-file picker; one XMLHttpRequest per file (fetch cannot report
// upload progress), one at a time so a large file does not starve the others of bandwidth.
import { askToken, authHeaders } from './auth.js';
import { $, el, formatBytes } from './dom.js';

const queue = [];
let busy = false;

export function initUploads(onAccepted) {
  const input = $('image');
  const zone = $('drop-zone');
  input.addEventListener('change', () => {
    enqueue([...input.files], onAccepted);
    input.value = '';
  });
  for (const type of ['dragenter', 'dragover']) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add('dragging');
    });
  }
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    enqueue([...(event.dataTransfer?.files ?? [])], onAccepted);
  });
  // A file dropped next to the zone must not navigate away from the dashboard.
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => event.preventDefault());
}

function enqueue(files, onAccepted) {
  const mode = $('mode').value;
  const method = {
    method: $('method').value,
    clip_limit: $('clip_limit').value,
    tiles: $('tiles').value,
  };
  for (const file of files) queue.push({ file, mode, method, row: uploadRow(file), onAccepted });
  void pump();
}

async function pump() {
  if (busy) return;
  busy = true;
  while (queue.length > 0) await send(queue.shift());
  busy = false;
}

function uploadRow(file) {
  const item = el('li', 'upload-row');
  const name = el('span', 'name', file.name);
  const size = el('span', 'muted', formatBytes(file.size));
  const bar = el('progress');
  bar.max = 1;
  bar.value = 0;
  bar.setAttribute('aria-label', `Upload progress of ${file.name}`);
  const message = el('span', 'message', 'Waiting…');
  message.setAttribute('role', 'status');
  item.append(name, size, bar, message);
  $('uploads').prepend(item);
  // Keep the list short: finished rows older than the last ten go.
  const rows = $('uploads').children;
  while (rows.length > 10) rows[rows.length - 1].remove();
  return { item, bar, message };
}

function send({ file, mode, method, row, onAccepted, retried = false }) {
  return new Promise((resolve) => {
    const form = new window.FormData();
    form.append('mode', mode);
    // The clip limit and tiles matter only to CLAHE; the server ignores them for global.
    for (const [name, value] of Object.entries(method)) form.append(name, value);
    form.append('image', file, file.name);
    const request = new window.XMLHttpRequest();
    request.open('POST', '/upload');
    for (const [name, value] of Object.entries(authHeaders()))
      request.setRequestHeader(name, value);
    request.responseType = 'json';
    row.message.textContent = 'Uploading…';
    request.upload.addEventListener('progress', (e) => {
      if (!e.lengthComputable) return;
      row.bar.value = e.loaded / e.total;
      row.message.textContent =
        e.loaded < e.total
          ? `Uploading ${Math.floor((100 * e.loaded) / e.total)}%`
          : 'Checking the image…';
    });
    const finish = (state, text) => {
      row.item.dataset.state = state;
      row.message.textContent = text;
      if (state === 'refused') row.message.setAttribute('role', 'alert');
      row.bar.value = state === 'accepted' ? 1 : row.bar.value;
      resolve();
    };
    request.addEventListener('load', () => {
      const body = request.response || {};
      if (request.status === 401 && !retried) {
        // Ask once for the token, then send the same file again.
        void askToken(body.error).then((given) =>
          given
            ? send({ file, mode, method, row, onAccepted, retried: true }).then(resolve)
            : finish('refused', body.error || 'An API token is required.'),
        );
        return;
      }
      if (request.status === 200 && typeof body.job_id === 'string') {
        finish('accepted', `Accepted as job ${body.job_id}.`);
        onAccepted(body.job_id, file.name);
      } else {
        // The server's own sentence says what was wrong with the file.
        finish('refused', body.error || `The upload failed (HTTP ${request.status}).`);
      }
    });
    request.addEventListener('error', () =>
      finish('refused', 'The upload failed: the cluster did not answer. Please retry.'),
    );
    request.send(form);
  });
}
