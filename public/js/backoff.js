// Bounded retries for the results of a job: a few tries with growing pauses for what may be
// passing (a network error, a 5xx while masters change), none for a 4xx, which will not change.
import { apiFetch } from './auth.js';

export const RETRY_DELAYS_MS = [500, 1500, 3500];

/**
 * Resolves `{ ok: true, res }` or `{ ok: false, status, reason }` after at most
 * 1 + RETRY_DELAYS_MS.length requests. `stillWanted()` false stops it between tries.
 */
export async function fetchWithBackoff(url, options = {}, stillWanted = () => true) {
  let last = { ok: false, status: 0, reason: 'the cluster did not answer' };
  for (let attempt = 0; attempt <= RETRY_DELAYS_MS.length; attempt++) {
    if (attempt > 0) {
      await new Promise((resolve) => window.setTimeout(resolve, RETRY_DELAYS_MS[attempt - 1]));
    }
    if (!stillWanted()) return { ok: false, status: 0, reason: 'no longer shown', cancelled: true };
    try {
      const res = await apiFetch(url, options);
      if (res.ok) return { ok: true, res };
      last = { ok: false, status: res.status, reason: await serverSentence(res) };
      if (res.status >= 400 && res.status < 500) return last;
    } catch {
      last = { ok: false, status: 0, reason: 'the cluster did not answer' };
    }
  }
  return last;
}

async function serverSentence(res) {
  try {
    const body = await res.json();
    if (typeof body?.error === 'string' && body.error) return body.error;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  return `HTTP ${res.status}`;
}
