import { join } from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';
import { Router, type RequestHandler } from 'express';
import { ensureRoom } from '../../common/storage.js';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http-errors.js';
import { DEFAULT_UPLOAD_IDLE_TIMEOUT_MS } from '../multipart.js';
import { UploadCompleter } from './complete-upload.js';
import { JOB_ID_HEADER, TUS_PATH } from './protocol.js';
import { isRefusal, librarySentence, refusal, refusalFor } from './refusal.js';
import { optionsFromMetadata } from './upload-metadata.js';
import { DEFAULT_UPLOAD_RESUME_EXPIRY_MS, sweepIdleUploads } from './upload-sweeper.js';

const UPLOAD_ID = /^[0-9a-f]{32}$/;

export interface ResumableUploads {
  /** Mounted at /api, behind the token and the master-only gate. */
  router: Router;
  /** Starts the sweep of idle partial uploads (master only); stop() ends it. */
  start(): void;
  stop(): void;
}

/**
 * Resumable uploads (the tus protocol, @tus/server with @tus/file-store). The partial file and
 * its info live in SHARED_DIR/resumable/, and the offset of an upload is the size of its file
 * there, so whichever pod is master after a failover continues the same upload from the last
 * byte that reached the disk. A finished upload becomes a job like a POST /upload does.
 */
export function resumableUploads(deps: WebDeps, rateLimit: RequestHandler): ResumableUploads {
  const logger = deps.logger.child({ component: 'resumable-uploads' });
  const dir = join(deps.sharedDir, 'resumable');
  const store = new FileStore({ directory: dir });
  const completer = new UploadCompleter(deps, store);
  const reserve = deps.storageReserveBytes ?? 0;
  const tus = new Server({
    path: TUS_PATH,
    datastore: store,
    // The front door and ingresses keep the client's Host; a relative Location needs neither.
    relativeLocation: true,
    maxSize: deps.maxUploadBytes,
    // The page is same-origin; other origins only when ALLOWED_ORIGINS names them.
    allowedOrigins: deps.allowedOrigins ?? [],
    exposedHeaders: [JOB_ID_HEADER],
    async onUploadCreate(_req, upload) {
      if (upload.sizeIsDeferred) {
        throw new HttpError(
          400,
          'Announce the file size in Upload-Length when creating the upload.',
        );
      }
      // Refuse bad options before a byte is stored, as the form's would be.
      optionsFromMetadata(upload.metadata);
      await ensureRoom(dir, upload.size ?? 0, reserve, 'this upload');
      return {};
    },
    async onIncomingRequest(req) {
      const length = Number(req.headers.get('content-length'));
      if (req.method === 'PATCH' && length > 0) {
        await ensureRoom(dir, length, reserve, 'the rest of this upload');
      }
    },
    async onUploadFinish(_req, upload) {
      const jobId = await completer.complete(upload.id);
      return { headers: { [JOB_ID_HEADER]: jobId } };
    },
    onResponseError(_req, err) {
      if (isRefusal(err)) {
        // The library's refusals carry protocol phrases; ours are JSON sentences already.
        return err.body.startsWith('{')
          ? err
          : refusal(
              err.status_code,
              librarySentence(err.status_code, err.body, deps.maxUploadBytes),
            );
      }
      const answer = refusalFor(err);
      if (answer.status_code >= 500 && answer.status_code !== 503) {
        logger.error({ err }, 'resumable upload request failed');
      }
      return answer;
    },
  });
  const handle: RequestHandler = (req, res, next) => {
    tus.handle(req, res).catch(next);
  };
  const transfers = new Set<string>();
  const guard = guardTransfer(deps, transfers);

  const router = Router();
  router.get('/uploads/:id/job', async (req, res) => {
    const id = req.params.id;
    if (!UPLOAD_ID.test(id)) throw notFound(id);
    let jobId = await completer.recordedJob(id);
    // Finished, but the master died before it made the job: make it now (once).
    jobId ??= await completer.complete(id).catch((err: unknown) => {
      if (isRefusal(err) && (err.status_code === 404 || err.status_code === 410)) {
        throw notFound(id);
      }
      throw err;
    });
    res.set('Cache-Control', 'no-store').json({ job_id: jobId });
  });
  // The token came first (app.ts); creating an upload is what the rate limit counts.
  router.post('/uploads', rateLimit, guard, handle);
  router.options('/uploads', handle);
  router.route('/uploads/:id').head(handle).patch(guard, handle).delete(handle).options(handle);

  let timer: NodeJS.Timeout | undefined;
  const expiryMs = deps.resumableUploadExpiryMs ?? DEFAULT_UPLOAD_RESUME_EXPIRY_MS;
  const sweep = () => {
    if (!deps.role().isMaster) return;
    sweepIdleUploads(dir, expiryMs, transfers, logger).catch((err: unknown) =>
      logger.warn({ err }, 'cannot sweep idle resumable uploads'),
    );
  };
  return {
    router,
    start() {
      timer ??= setInterval(sweep, Math.min(60_000, Math.max(1000, expiryMs / 4)));
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

function notFound(id: string): HttpError {
  return new HttpError(404, `There is no resumable upload ${JSON.stringify(id)}.`);
}

/**
 * A transfer ends when its client stops sending for UPLOAD_IDLE_TIMEOUT_MS, or when this pod
 * stops being master: then only the new master may write to the file, and the client resumes
 * there. Each transfer is logged with the offset it started at and the bytes it brought.
 */
function guardTransfer(deps: WebDeps, transfers: Set<string>): RequestHandler {
  const idleMs = deps.uploadIdleTimeoutMs ?? DEFAULT_UPLOAD_IDLE_TIMEOUT_MS;
  return (req, res, next) => {
    const id = typeof req.params.id === 'string' ? req.params.id : undefined;
    const offset = Number(req.headers['upload-offset'] ?? 0);
    const socket = req.socket;
    const startBytes = socket.bytesRead;
    let lastBytes = startBytes;
    let lastProgress = Date.now();
    const check = setInterval(
      () => {
        if (socket.bytesRead !== lastBytes) {
          lastBytes = socket.bytesRead;
          lastProgress = Date.now();
        }
        const why = !deps.role().isMaster
          ? 'this pod is no longer master'
          : Date.now() - lastProgress >= idleMs
            ? `no progress for ${idleMs / 1000} s (UPLOAD_IDLE_TIMEOUT_MS)`
            : null;
        if (why) {
          deps.logger.info({ uploadId: id, reason: why }, 'resumable upload transfer dropped');
          socket.destroy();
        }
      },
      Math.min(1000, idleMs),
    );
    check.unref();
    if (id) transfers.add(id);
    deps.logger.info({ uploadId: id, offset, method: req.method }, 'resumable upload receiving');
    res.once('close', () => {
      clearInterval(check);
      if (id) transfers.delete(id);
      // The answer's offset when there is one; else what the socket read (headers included).
      const to = Number(res.getHeader('upload-offset'));
      const received =
        Number.isFinite(to) && to >= offset ? to - offset : socket.bytesRead - startBytes;
      deps.logger.info(
        { uploadId: id, offset, received, status: res.statusCode },
        'resumable upload transfer ended',
      );
    });
    next();
  };
}
