import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HisteqError, errorCode, type ErrorCode } from '../common/errors.js';
import type { Logger } from '../common/log.js';

/**
 * An error that already knows its HTTP status and the sentence the client should read. Used for
 * request problems found by the web layer itself (limits, bad fields, path tricks).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

/** HisteqError codes that are the client's doing or a cluster state; everything else is 500. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  BAD_INPUT: 400,
  UNSUPPORTED_FORMAT: 415,
  TOO_MANY_PIXELS: 422, // the body was fine; its content is what we refuse (413 is about size)
  TOO_MANY_BYTES: 422, // likewise: what the small file would decode to
  NOT_FOUND: 404,
  CONFLICT: 409,
  INSUFFICIENT_STORAGE: 507,
  NOT_MASTER: 503,
  CLUSTER_DEGRADED: 503,
  ZK_SESSION_EXPIRED: 503,
  ZK_TIMEOUT: 503,
};

const INTERNAL_SENTENCE =
  'The server could not handle this request because of an internal error; the pod log has the details.';

/**
 * Status and sentence for any thrown value. Our own errors carry sentences written for users;
 * anything else (a library's TypeError, an fs error with a path in it) stays in the log.
 */
export function describeError(err: unknown): { status: number; message: string } {
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  const code = errorCode(err);
  if (err instanceof HisteqError || (code && code in STATUS_BY_CODE)) {
    const status = (code && STATUS_BY_CODE[code]) ?? 500;
    return { status, message: (err as Error).message };
  }
  // body-parser style errors (e.g. from express internals) carry a client status.
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, message: `The request was not understood (${status}).` };
  }
  return { status: 500, message: INTERNAL_SENTENCE };
}

/**
 * Reads of a job's results (downloads, previews, stats): a page asks for them again until they
 * exist or it gives up, so a refused one is a debug line, not an info line per retry.
 */
const RESULT_READ = /^\/(?:download\/[^/]+|api\/jobs\/[^/]+\/(?:preview\/[^/]+|stats))$/;

/** The last middleware: logs the error and answers `{error}` JSON, never a stack trace. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    const { status, message } = describeError(err);
    const fields = { method: req.method, path: req.path, status, code: errorCode(err) };
    // 503s are cluster states (no master, too few pods), not bugs: no stack for those.
    if (status >= 500 && status !== 503) logger.error({ ...fields, err }, 'request failed');
    else if (status === 503) logger.warn({ ...fields, reason: message }, 'request refused');
    else if (req.method === 'GET' && RESULT_READ.test(req.path)) {
      logger.debug({ ...fields, reason: message }, 'request refused');
    } else logger.info({ ...fields, reason: message }, 'request refused');
    // Headers already went out (a download broke mid-stream): only the connection can go.
    if (res.headersSent) {
      next(err);
      return;
    }
    res.status(status).json({ error: message });
  };
}

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: `There is nothing at ${req.method} ${req.path}.` });
};
