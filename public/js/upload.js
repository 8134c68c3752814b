// Uploads: a drop zone and a multi-file picker; one resumable upload (tus-js-client, loaded as
// /vendor/tus.min.js) per file, one at a time so a large file does not starve the others.
import { apiFetch, askToken, authHeaders } from './auth.js';
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

// After a failed request the upload waits this long, then asks the master for its offset and
// sends the rest: enough for a master failover.
const RETRY_DELAYS_MS = [0, 500, 1000, 2000, 3000, 5000, 5000, 10000, 10000, 10000];
const JOB_ID_HEADER = 'Histeq-Job-Id';

/** A network failure, a 5xx (a worker's 503, a master going away), a lock or offset conflict. */
function worthRetrying(err) {
  const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
  return status === 0 || status >= 500 || status === 409 || status === 423;
}

/**
 * tus-js-client starts a new upload (sending everything again) when asking for the offset (HEAD)
 * answers anything but 2xx or 423; a 503 while masters change is worth waiting out instead: as
 * a failed request it is retried, and the upload keeps its address.
 */
function keepUploadThroughFailover(req, res) {
  const status = res.getStatus();
  if (req.getMethod() === 'HEAD' && status >= 500) {
    throw new Error(`the cluster answered ${status} while asked for the upload's offset`);
  }
}

/** The server's sentence from a refusal's JSON body, if it sent one. */
function sentenceOf(err) {
  try {
    return JSON.parse(err.originalResponse?.getBody() || '{}').error || '';
  } catch {
    return '';
  }
}

/**
 * One resumable upload (tus): an interrupted request is retried from the offset the master has
 * stored, and a file chosen again after a reload continues where it stopped (tus-js-client keeps
 * the upload's address in localStorage until it finishes).
 */
function send({ file, mode, method, row, onAccepted }) {
  return new Promise((resolve) => {
    let askedForToken = false;
    const finish = (state, text) => {
      row.item.dataset.state = state;
      row.message.textContent = text;
      if (state === 'refused') row.message.setAttribute('role', 'alert');
      row.bar.value = state === 'accepted' ? 1 : row.bar.value;
      resolve();
    };
    const accepted = (id) => {
      finish('accepted', `Accepted as job ${id}.`);
      onAccepted(id, file.name);
    };
    const upload = new window.tus.Upload(file, {
      endpoint: '/api/uploads',
      // The clip limit and tiles matter only to CLAHE; the server ignores them for global.
      metadata: { name: file.name, mode, ...method },
      retryDelays: RETRY_DELAYS_MS,
      removeFingerprintOnSuccess: true,
      // The token as it is now: it may have been given since the upload started.
      onBeforeRequest: (req) => {
        for (const [name, value] of Object.entries(authHeaders())) req.setHeader(name, value);
      },
      onAfterResponse: keepUploadThroughFailover,
      onShouldRetry: (err) => {
        const retry = worthRetrying(err);
        if (retry) row.message.textContent = 'The connection dropped; resuming…';
        return retry;
      },
      onProgress: (sent, total) => {
        row.bar.value = total ? sent / total : 0;
        row.message.textContent =
          sent < total ? `Uploading ${Math.floor((100 * sent) / total)}%` : 'Checking the image…';
      },
      onSuccess: ({ lastResponse }) => {
        const id = lastResponse.getHeader(JOB_ID_HEADER);
        if (id) {
          accepted(id);
          return;
        }
        // Resumed after its last answer was lost: the upload was already complete.
        void apiFetch(`${upload.url}/job`, { cache: 'no-store' })
          .then((res) => res.json())
          .then(
            (body) =>
              body.job_id ? accepted(body.job_id) : finish('refused', body.error || 'No job.'),
            () => finish('refused', 'The upload finished but its job could not be read.'),
          );
      },
      onError: (err) => {
        const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
        if (status === 401 && !askedForToken) {
          // Ask once for the token, then go on from where the upload is.
          askedForToken = true;
          void askToken(sentenceOf(err)).then((given) =>
            given
              ? upload.start()
              : finish('refused', sentenceOf(err) || 'An API token is required.'),
          );
          return;
        }
        // The server's own sentence says what was wrong with the file.
        finish(
          'refused',
          sentenceOf(err) ||
            (status
              ? `The upload failed (HTTP ${status}).`
              : 'The upload failed: the cluster did not answer. Please retry.'),
        );
      },
    });
    row.message.textContent = 'Uploading…';
    void upload
      .findPreviousUploads()
      .catch(() => [])
      .then((previous) => {
        if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      });
  });
}
