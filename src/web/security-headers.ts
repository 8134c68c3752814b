import type { ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';

/**
 * The page loads only its own script, style and the Socket.IO client, and talks only to its own
 * origin (CSP Level 3 `'self'` covers same-origin ws:/wss: in current browsers). Result previews
 * may be shown from blob: URLs by the dashboard.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Sets the headers on any response (express's or one Socket.IO writes itself). */
export function applySecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value);
}

/** A few fixed headers; helmet would be a dependency for six lines. */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  applySecurityHeaders(res);
  next();
};
