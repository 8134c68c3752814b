// Which job the detail shows. A link of its own (`#/jobs/<id>`) wins and survives a reload;
// without one the page picks the running job, else the newest, once it knows the whole list
// (the replayed job_status events arrive before it, oldest first, and must not decide).
import { allJobs, jobData } from './store.js';
import { isActive } from './dom.js';

const ROUTE = /^#\/jobs\/([A-Za-z0-9][A-Za-z0-9_-]{0,127})$/;
let selected = null;
/** True once the user (a click, an upload, a link) chose: the page no longer picks by itself. */
let chosen = false;
let listReady = false;
const listeners = new Set();

export const selectedJob = () => selected;
export const jobLink = (id) => `#/jobs/${encodeURIComponent(id)}`;

export function onSelect(listener) {
  listeners.add(listener);
}

export function initSelection() {
  window.addEventListener('hashchange', () => followHash());
  followHash();
}

/** The user picked a job: it gets its own link (and a history entry for Back). */
export function chooseJob(id) {
  chosen = true;
  if (window.location.hash !== jobLink(id)) window.location.hash = jobLink(id);
  else setSelected(id);
}

/** A job was deleted (here or on another page): stop showing it, and pick another. */
export function forgetJob(id) {
  if (selected !== id) return;
  if (window.location.hash === jobLink(id)) {
    window.location.hash = '';
    return;
  }
  selected = null;
  for (const listener of listeners) listener(null);
  autoPick();
}

/** The full job list has been read: pick one unless the user or a link already did. */
export function jobsListed() {
  listReady = true;
  autoPick();
}

/** A job appeared or changed: a page that picked by itself keeps following the running one. */
export function jobSeen(data, isNew) {
  if (!listReady || chosen) return;
  const current = selected ? jobData(selected) : null;
  if (isNew || !current || (!isActive(current.state) && isActive(data.state))) autoPick();
}

function followHash() {
  const match = ROUTE.exec(window.location.hash);
  if (match) {
    chosen = true;
    setSelected(decodeURIComponent(match[1]));
  } else {
    chosen = false;
    autoPick();
  }
}

function autoPick() {
  if (chosen || !listReady) return;
  const best = pickJob(allJobs());
  if (best && best.id !== selected) setSelected(best.id);
}

/** The running job (the newest if several), else the newest; ids sort by creation time. */
export function pickJob(list) {
  const newestFirst = [...list].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  return newestFirst.find((d) => isActive(d.state)) ?? newestFirst[0] ?? null;
}

function setSelected(id) {
  selected = id;
  for (const listener of listeners) listener(id);
}
