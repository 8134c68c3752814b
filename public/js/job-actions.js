// What an operator does to the selected job: cancel it, retry it, re-run it with other options,
// delete it. Cancel and delete ask first; the server decides what the job's state allows.
import { apiFetch } from './auth.js';
import { confirmAction } from './confirm.js';
import { $, isActive } from './dom.js';
import { filterLogs } from './logs.js';
import { chooseJob, onSelect, selectedJob } from './selection.js';
import { jobData, onJobChange, removeJob, upsertJob } from './store.js';

export function initJobActions() {
  onSelect(() => render());
  onJobChange((d) => d.id === selectedJob() && render());
  $('action-cancel').addEventListener('click', () => void cancel());
  $('action-retry').addEventListener('click', () => void retry());
  $('action-delete').addEventListener('click', () => void remove());
  // The log lines of a job carry its id: the filter shows just those.
  $('action-logs').addEventListener('click', () => {
    filterLogs(selectedJob());
    $('logs-title').scrollIntoView({ block: 'start' });
  });
  $('rerun-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = new window.FormData(event.target);
    void retry({ mode: String(form.get('mode')), page: Number(form.get('page')) });
  });
}

function render() {
  const d = jobData(selectedJob());
  $('job-actions').hidden = !d;
  if (!d) return;
  const active = isActive(d.state);
  $('action-cancel').hidden = !active;
  $('action-retry').hidden = active;
  $('rerun').hidden = active;
  const form = $('rerun-form');
  if (d.options && !$('rerun').open) {
    form.elements.mode.value = d.options.mode;
    form.elements.page.value = String(d.options.page ?? 0);
  }
}

async function cancel() {
  const id = selectedJob();
  const d = jobData(id);
  const ok = await confirmAction(
    `Cancel ${d?.name || id}? Its tasks stop and its work files are removed; it gets no result.`,
    'Cancel job',
  );
  if (!ok) return;
  const view = await act(`/api/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
  if (view) upsertJob(view);
}

async function retry(options) {
  const id = selectedJob();
  const init = { method: 'POST' };
  if (options) {
    init.body = JSON.stringify(options);
    init.headers = { 'Content-Type': 'application/json' };
  }
  const answer = await act(`/api/jobs/${encodeURIComponent(id)}/retry`, init);
  if (!answer?.job_id) return;
  const old = jobData(id);
  if (!jobData(answer.job_id)) {
    upsertJob({
      id: answer.job_id,
      name: old?.name,
      state: 'queued',
      phase: 'queued',
      done: 0,
      total: 0,
      msg: 'accepted',
      retryOf: id,
    });
  }
  $('rerun').open = false;
  chooseJob(answer.job_id);
}

async function remove() {
  const id = selectedJob();
  const d = jobData(id);
  const running = d && isActive(d.state) ? ' It is still running and is cancelled first.' : '';
  const ok = await confirmAction(
    `Delete ${d?.name || id} with its result, previews and upload? This cannot be undone.${running}`,
    'Delete job',
  );
  if (!ok) return;
  const done = await act(`/api/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });
  if (done === null) return;
  removeJob(id);
  if (window.location.hash) window.location.hash = '';
}

/** The answer's JSON ({} for 204), or null after showing the server's sentence. */
async function act(url, init) {
  const error = $('action-error');
  error.hidden = true;
  try {
    const res = await apiFetch(url, { cache: 'no-store', ...init });
    const body = res.status === 204 ? {} : await res.json().catch(() => ({}));
    if (res.ok) return body;
    error.textContent = body.error || `The server answered ${res.status}.`;
  } catch {
    error.textContent = 'The cluster could not be reached; try again in a moment.';
  }
  error.hidden = false;
  return null;
}
