import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { discardBody } from './multipart.js';

export const TOKEN_REQUIRED =
  'This cluster requires an API token: send it as "Authorization: Bearer <token>".';
const SOCKET_TOKEN_REQUIRED =
  'This cluster requires an API token: connect with auth: { token: "<token>" }.';
export const TOKEN_WRONG = 'The API token is not valid for this cluster.';

/**
 * Digests first, so both sides have the same length and timingSafeEqual neither throws nor
 * leaks the token's length through an early return.
 */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The bearer token of a request's Authorization header, if it has one. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  const match = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return match?.[1];
}

/**
 * Requires API_TOKEN when one is configured; without one every request passes as before.
 * `allowQuery` also accepts `?token=` for GETs that browsers make from <img> and <a>, which
 * cannot carry headers (downloads and previews). The answer never says which part was wrong
 * beyond "missing" or "not valid".
 */
export function requireToken(
  expected: string | undefined,
  options: { allowQuery?: (path: string) => boolean } = {},
): RequestHandler {
  return (req, res, next) => {
    if (!expected) {
      next();
      return;
    }
    let given = bearerToken(req.headers);
    if (
      given === undefined &&
      typeof req.query.token === 'string' &&
      options.allowQuery?.(req.path)
    ) {
      given = req.query.token;
    }
    if (given !== undefined && tokenMatches(given, expected)) {
      next();
      return;
    }
    // A refused upload's body is drained within bounds (or the connection cut), never stored.
    discardBody(req);
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer realm="histeq-array"')
      .set('Cache-Control', 'no-store')
      .json({ error: given === undefined ? TOKEN_REQUIRED : TOKEN_WRONG });
  };
}

/** Socket.IO middleware form: the client sends `auth: { token }` (or the Authorization header). */
export function socketTokenCheck(
  expected: string | undefined,
  handshake: { auth: Record<string, unknown>; headers: IncomingHttpHeaders },
): string | null {
  if (!expected) return null;
  const fromAuth = typeof handshake.auth.token === 'string' ? handshake.auth.token : undefined;
  const given = fromAuth ?? bearerToken(handshake.headers);
  if (given === undefined) return SOCKET_TOKEN_REQUIRED;
  return tokenMatches(given, expected) ? null : TOKEN_WRONG;
}
