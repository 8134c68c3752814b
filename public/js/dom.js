// Small DOM helpers. Every string from the server goes through textContent, never HTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** A same-origin URL or null: results are always served by the master behind the same door. */
export function sameOriginUrl(url) {
  try {
    const parsed = new window.URL(url, window.location.href);
    return parsed.origin === window.location.origin ? parsed.href : null;
  } catch {
    return null;
  }
}

export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(s % 60).padStart(2, '0')} s`;
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export const PHASE_LABELS = {
  queued: 'Queued',
  mapping: 'Histograms',
  reducing: 'Building the lookup table',
  equalizing: 'Equalizing',
  stitching: 'Stitching',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export const ORDER = ['queued', 'mapping', 'reducing', 'equalizing', 'stitching', 'done'];

export const FINISHED = ['done', 'failed', 'cancelled'];
export const isActive = (state) => !FINISHED.includes(state);
