// Live pod logs: one terminal per pod fed by node_log events. Each keeps the last MAX_LINES
// lines, stops following the end while the reader scrolls up, and hides lines the filter
// does not match. JSON log lines are shown as `time level msg key=value…`.
// Only the reader pauses a terminal: a scroll event counts only right after a wheel, touch,
// key or pointer press on it. The page's own scrolling (following the end, dropping old lines
// during a burst) fires scroll events too, and those never pause it.
import { $, el } from './dom.js';

const MAX_LINES = 500;
/** A scroll event this soon after the reader's wheel, touch or key is theirs. */
const USER_SCROLL_MS = 600;
const SCROLL_KEYS = new Set(['ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End', ' ']);
/** pod → { box, body, count, resume, lines: [{node, text}], seen: Set, paused } */
const terminals = new Map();
let filter = '';

export function initLogs() {
  const input = $('log-filter');
  $('log-download').addEventListener('click', () => downloadShownLines());
  input.addEventListener('input', () => {
    filter = input.value.trim().toLowerCase();
    for (const t of terminals.values()) {
      for (const line of t.lines) line.node.hidden = !matches(line.text);
      if (!t.paused) t.body.scrollTop = t.body.scrollHeight;
    }
  });
}

/** Shows only the lines containing `text` (a job id, say), as if typed into the filter. */
export function filterLogs(text) {
  const input = $('log-filter');
  input.value = text;
  input.dispatchEvent(new window.Event('input'));
}

/** The lines the filter shows, every terminal's, as a text file `pod  line`. */
function downloadShownLines() {
  const rows = [...terminals].flatMap(([pod, t]) =>
    t.lines.filter((line) => matches(line.text)).map((line) => `${pod}  ${line.text}`),
  );
  const url = window.URL.createObjectURL(new window.Blob([`${rows.join('\n')}\n`]));
  const link = el('a');
  link.href = url;
  link.download = `histeq-logs${filter ? `-${filter.replace(/[^a-z0-9_-]+/g, '_')}` : ''}.txt`;
  link.click();
  window.setTimeout(() => window.URL.revokeObjectURL(url), 10_000);
}

export function appendLog(event) {
  if (!event || typeof event.pod !== 'string' || typeof event.log !== 'string') return;
  const t = terminal(event.pod);
  const { text, parts } = render(event.log);
  // A new master replays recent lines: skip exact repeats of timestamped lines already shown.
  if (parts && t.seen.has(event.log)) return;
  const node = el('div', `line level-${parts?.level ?? 'raw'}`);
  if (parts) {
    node.append(
      el('span', 'l-time', parts.time),
      el('span', 'l-level', parts.level),
      el('span', 'l-msg', parts.msg),
    );
    if (parts.rest) node.append(el('span', 'l-rest', parts.rest));
  } else {
    node.textContent = text;
  }
  node.hidden = !matches(text);
  t.body.append(node);
  t.lines.push({ node, text, raw: event.log });
  if (parts) t.seen.add(event.log);
  while (t.lines.length > MAX_LINES) {
    const old = t.lines.shift();
    old.node.remove();
    t.seen.delete(old.raw);
  }
  t.count.textContent = `${t.lines.length} lines`;
  if (t.paused) t.resume.hidden = false;
  else t.body.scrollTop = t.body.scrollHeight;
  $('no-logs').hidden = true;
}

function matches(text) {
  return !filter || text.toLowerCase().includes(filter);
}

function render(line) {
  let event;
  try {
    event = JSON.parse(line);
  } catch {
    return { text: line, parts: null };
  }
  if (!event || typeof event !== 'object' || Array.isArray(event))
    return { text: line, parts: null };
  const { time, level, msg, ...rest } = event;
  // `pod` is the terminal's title already; `hostname` and `pid` say nothing new.
  for (const key of ['pod', 'hostname', 'pid']) delete rest[key];
  const clock =
    typeof time === 'string'
      ? time.slice(11, 23)
      : typeof time === 'number'
        ? new Date(time).toISOString().slice(11, 23)
        : '';
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const parts = {
    time: clock,
    level: String(level ?? 'info'),
    msg: String(msg ?? ''),
    rest: extras,
  };
  return { text: [parts.time, parts.level, parts.msg, parts.rest].join(' '), parts };
}

function terminal(pod) {
  let t = terminals.get(pod);
  if (t) return t;
  const box = el('section', 'terminal');
  box.dataset.pod = pod;
  box.setAttribute('aria-label', `Log of ${pod}`);
  const head = el('div', 'term-head');
  const title = el('h3', '', pod);
  const count = el('span', 'muted');
  const resume = el('button', 'resume', 'Paused — jump to newest');
  resume.type = 'button';
  resume.hidden = true;
  head.append(title, count, resume);
  const body = el('div', 'term-body');
  body.tabIndex = 0;
  body.setAttribute('role', 'log');
  body.setAttribute('aria-label', `Log lines of ${pod}`);
  box.append(head, body);
  t = { box, body, count, resume, lines: [], seen: new Set(), paused: false };
  // The reader scrolling away from the end pauses following; back to the end (or the button)
  // resumes.
  let userUntil = 0;
  let pressed = false;
  const byUser = () => {
    userUntil = Date.now() + USER_SCROLL_MS;
  };
  body.addEventListener('wheel', byUser, { passive: true });
  body.addEventListener('touchmove', byUser, { passive: true });
  body.addEventListener('keydown', (event) => {
    if (SCROLL_KEYS.has(event.key)) byUser();
  });
  // A press on the scrollbar (or a drag-select) scrolls for as long as it is held.
  body.addEventListener('pointerdown', () => {
    pressed = true;
  });
  window.addEventListener('pointerup', () => {
    if (pressed) byUser();
    pressed = false;
  });
  body.addEventListener('scroll', () => {
    if (!pressed && Date.now() > userUntil) return;
    const atEnd = body.scrollHeight - body.scrollTop - body.clientHeight < 8;
    t.paused = !atEnd;
    t.box.dataset.paused = String(t.paused);
    t.resume.hidden = !t.paused;
  });
  resume.addEventListener('click', () => {
    t.paused = false;
    t.box.dataset.paused = 'false';
    resume.hidden = true;
    body.scrollTop = body.scrollHeight;
  });
  terminals.set(pod, t);
  const list = $('terminals');
  const after = [...list.children].find((n) => n.dataset.pod > pod);
  list.insertBefore(box, after ?? null);
  return t;
}
