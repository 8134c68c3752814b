import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { discardBody } from './multipart.js';

const WINDOW_MS = 60_000;

/**
 * At most `perMinute` uploads per client in a sliding minute (express-rate-limit's memory
 * store: each pod counts its own, and only the master takes uploads). It runs after the token
 * check (app.ts), so only requests that may upload count: with API_TOKEN set, that is token
 * holders, keyed by address; clients without the token are refused before they reach it and
 * cannot use up anyone's budget. The address is `req.ip`: the socket's peer, unless TRUST_PROXY
 * names the proxies in front whose X-Forwarded-For to believe (without it, every client behind a
 * proxy shares one budget, and no client can pick its own key). 0 or undefined: no limit.
 */
export function uploadRateLimit(
  perMinute: number | undefined,
  options: { trustProxy?: boolean } = {},
): RequestHandler {
  if (!perMinute) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // Ingresses add X-Forwarded-For; untrusted (no TRUST_PROXY) it is deliberately ignored, so
    // the library's warning about it would only be noise in the pod log.
    validate: { xForwardedForHeader: options.trustProxy ?? false, trustProxy: false },
    handler: (req, res) => {
      discardBody(req);
      const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = resetTime
        ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000))
        : WINDOW_MS / 1000;
      res
        .status(429)
        .set('Retry-After', String(seconds))
        .set('Cache-Control', 'no-store')
        .json({
          error: `Too many uploads from your address: at most ${perMinute} per minute (UPLOAD_RATE_PER_MINUTE); retry in ${seconds} s.`,
        });
    },
  });
}
