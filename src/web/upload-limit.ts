import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { discardBody } from './multipart.js';

const WINDOW_MS = 60_000;

/**
 * At most `perMinute` uploads per client IP in a sliding minute (express-rate-limit's memory
 * store: each pod counts its own, and only the master takes uploads). It runs before the token
 * check, so guessing the token through /upload is limited too. `req.ip` is the socket's peer:
 * behind a proxy that hides clients, they all share one budget (no `trust proxy`, so a client
 * cannot pick its own key with X-Forwarded-For). 0 or undefined turns the limit off.
 */
export function uploadRateLimit(perMinute: number | undefined): RequestHandler {
  if (!perMinute) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // Ingresses add X-Forwarded-For; we deliberately do not trust it (see above), so the
    // library's warning about it would only be noise in the pod log.
    validate: { xForwardedForHeader: false },
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
          error: `Too many uploads from your address: at most ${perMinute} per minute; retry in ${seconds} s.`,
        });
    },
  });
}
