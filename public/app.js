// The dashboard's entry point: wires the parts to the Socket.IO events and the JSON API.
// Every string from the server is inserted with textContent, never as HTML.
import { askToken, token } from './js/auth.js';
import { initCluster, pollCluster, renderCluster, showAlert } from './js/cluster.js';
import { initDetail } from './js/detail.js';
import { initHealth, pollHealth } from './js/health.js';
import { $ } from './js/dom.js';
import { initJobActions } from './js/job-actions.js';
import { initJobList, loadJobList } from './js/job-list.js';
import { initJobs } from './js/jobs.js';
import { appendLog, initLogs } from './js/logs.js';
import { initResults, onReconnected } from './js/results.js';
import { chooseJob, forgetJob, initSelection, jobSeen, jobsListed } from './js/selection.js';
import { jobData, onJobChange, removeJob, upsertJob } from './js/store.js';
import { initSettings } from './js/settings.js';
import { initUploads } from './js/upload.js';

function setConnection(state, text) {
  const node = $('connection');
  node.dataset.state = state;
  node.textContent = text;
}

async function refetch() {
  try {
    await loadJobList();
    jobsListed();
    await Promise.all([pollCluster(), pollHealth()]);
  } catch {
    // Between masters: the next (re)connect fetches again.
  }
}

function connect() {
  // Default transports: long-polling first, upgraded to WebSocket when it works, so a proxy
  // that blocks WebSockets still gets every event.
  const socket = window.io({
    reconnectionDelay: 500,
    reconnectionDelayMax: 2000,
    // A function, so every (re)connect sends the token as it is now.
    auth: (send) => send(token() ? { token: token() } : {}),
  });
  const retryLater = () => window.setTimeout(() => socket.connect(), 1000);
  let connectedOnce = false;
  socket.on('connect', () => {
    setConnection('connected', connectedOnce ? 'Live (reconnected)' : 'Live');
    if (connectedOnce) onReconnected();
    connectedOnce = true;
    // Jobs live in ZooKeeper: a new master knows the same ones.
    void refetch();
  });
  socket.on('disconnect', (reason) => {
    setConnection('disconnected', 'Disconnected — reconnecting…');
    // The server dropped us (it stopped being master): reach the new one through the door.
    if (reason === 'io server disconnect') retryLater();
  });
  socket.on('connect_error', (err) => {
    if (err.data?.status === 401) {
      setConnection('disconnected', err.message);
      void askToken(err.message).then((given) => given && socket.connect());
      return;
    }
    setConnection('disconnected', `Reconnecting… (${err.message || 'cannot reach the cluster'})`);
    // Refused by a pod that is not master: the library does not retry that by itself.
    if (!socket.active) retryLater();
  });
  socket.on('job_status', (status) => upsertJob(status));
  socket.on('job_attempts', ({ id, attempts }) => jobData(id) && upsertJob({ id, attempts }));
  // Deleted on any page (or by a script): gone from this one too.
  socket.on('job_deleted', ({ id }) => {
    removeJob(id);
    forgetJob(id);
  });
  socket.on('cluster', renderCluster);
  socket.on('cluster_alert', (alert) => showAlert(alert));
  socket.on('node_log', appendLog);
  window.histeqSocket = socket; // for tests and for poking around in the console
}

// Views subscribe before the first job or selection arrives.
initJobs();
initJobList();
initDetail();
initJobActions();
initResults();
initCluster();
initHealth();
initLogs();
initSettings();
onJobChange(jobSeen);
initSelection();
initUploads((id, name) => {
  if (!jobData(id)) {
    upsertJob({ id, name, state: 'queued', phase: 'queued', done: 0, total: 0, msg: 'accepted' });
  }
  chooseJob(id);
});
connect();
