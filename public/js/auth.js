// The optional API token (API_TOKEN on the server). Asked for once, when a request is refused
// with 401, and kept in sessionStorage: it lives as long as the tab, never in a cookie, so
// other sites cannot make the browser send it.

const KEY = 'histeq-api-token';
let asking = null;

export function token() {
  try {
    return window.sessionStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

/** Headers for fetch/XHR: the bearer token when one is known. */
export function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** For <img> and <a>, which cannot send headers: the token as a query parameter. */
export function withToken(url) {
  const t = token();
  if (!t) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(t)}`;
}

/**
 * Asks for the token (one prompt at a time, however many requests were refused together).
 * Resolves true when the user gave one.
 */
export function askToken(reason) {
  asking ??= Promise.resolve().then(() => {
    const given = window.prompt(
      `${reason || 'This cluster requires an API token.'}\nPlease enter the API token:`,
      '',
    );
    asking = null;
    if (!given || !given.trim()) return false;
    try {
      window.sessionStorage.setItem(KEY, given.trim());
    } catch {
      // Storage refused (private mode): the token still cannot be kept; ask again next time.
    }
    return true;
  });
  return asking;
}

/** fetch with the token; on 401 asks once for a token and retries. */
export async function apiFetch(url, options = {}) {
  const send = () =>
    window.fetch(url, { ...options, headers: { ...options.headers, ...authHeaders() } });
  const res = await send();
  if (res.status !== 401) return res;
  const body = await res
    .clone()
    .json()
    .catch(() => ({}));
  return (await askToken(body.error)) ? send() : res;
}
