import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { ensureRoom } from '../common/storage.js';
import { errorMessage } from '../common/errors.js';
import { parseMethod } from '../imaging/clahe/method.js';
import { COLOUR_MODES } from '../imaging/types.js';
import type { JobOptions } from '../jobs/types.js';
import type { WebDeps } from './deps.js';
import { HttpError } from './http-errors.js';
import { discardBody, receiveUpload } from './multipart.js';

/** The multipart field that carries the image (the classic protocol's name). */
export const IMAGE_FIELD = 'image';

/** A browser form sends an empty string for an untouched optional input: treat it as absent. */
const blankToUndefined = (value: unknown) => (value === '' ? undefined : value);

const optionsSchema = z.object({
  mode: z.preprocess(
    blankToUndefined,
    z
      .enum(COLOUR_MODES, { error: `The field "mode" must be one of: ${COLOUR_MODES.join(', ')}.` })
      .default('luma'),
  ),
  page: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d{1,5}$/, 'The field "page" must be a whole number from 0 (the first page).')
      .transform(Number)
      .default(0),
  ),
});

/**
 * Reads `mode`, `page`, `method`, `clip_limit` and `tiles` from the form; unknown fields are
 * ignored like any form would. Whether the grid fits the image is the job service's check.
 */
export function parseJobOptions(fields: Record<string, string>): JobOptions {
  const parsed = optionsSchema.safeParse(fields);
  if (!parsed.success) {
    throw new HttpError(400, parsed.error.issues.map((issue) => issue.message).join(' '));
  }
  let clahe;
  try {
    clahe = parseMethod({
      method: fields.method,
      clipLimit: fields.clip_limit,
      tiles: fields.tiles,
    });
  } catch (err) {
    throw new HttpError(400, errorMessage(err));
  }
  // Global jobs record no method, like the records of versions before CLAHE.
  return clahe ? { ...parsed.data, method: 'clahe', clahe } : parsed.data;
}

/**
 * POST /upload: stream the file to SHARED_DIR/uploads under a server-chosen name, then hand it
 * to the job service, which validates the image before creating anything. 200, not 202: the
 * classic protocol's clients check for 200.
 */
export function uploadHandler(deps: WebDeps): RequestHandler {
  const uploadsDir = join(deps.sharedDir, 'uploads');
  return async (req, res) => {
    // When the size is announced, refuse before storing a byte; oversize bodies are left to
    // receiveUpload's 413. The decoded size is checked by the job service after the probe.
    const announced = Number(req.headers['content-length']);
    if (Number.isSafeInteger(announced) && announced > 0 && announced <= deps.maxUploadBytes) {
      try {
        await mkdir(uploadsDir, { recursive: true });
        await ensureRoom(uploadsDir, announced, deps.storageReserveBytes ?? 0, 'this upload');
      } catch (err) {
        discardBody(req);
        throw err;
      }
    }
    const upload = await receiveUpload(req, {
      uploadsDir,
      maxBytes: deps.maxUploadBytes,
      fileField: IMAGE_FIELD,
      idleTimeoutMs: deps.uploadIdleTimeoutMs,
    }).catch((err: unknown) => {
      // A stalled client is not reading either: close after the answer instead of draining.
      if (err instanceof HttpError && err.status === 408) res.set('Connection', 'close');
      throw err;
    });
    try {
      const options = parseJobOptions(upload.fields);
      const { id } = await deps.jobs.submit({
        path: upload.path,
        originalName: upload.originalName,
        options,
      });
      deps.logger.info(
        { jobId: id, name: upload.originalName, bytes: upload.bytes, options },
        'upload accepted',
      );
      res.status(200).set('Cache-Control', 'no-store').json({ job_id: id });
    } catch (err) {
      await rm(upload.path, { force: true });
      throw err;
    }
  };
}
