import { displayName } from '../common/display-name.js';
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { HttpError } from './http-errors.js';

export interface ReceiveOptions {
  /** Folder the file is stored in (created when missing). */
  uploadsDir: string;
  /** Largest accepted file, in bytes; a larger one is refused with 413. */
  maxBytes: number;
  /** The one file field accepted. */
  fileField: string;
  /**
   * A body that makes no progress for this long is dropped with 408 and its partial file
   * removed (UPLOAD_IDLE_TIMEOUT_MS); default 60 s.
   */
  idleTimeoutMs?: number;
}

export const DEFAULT_UPLOAD_IDLE_TIMEOUT_MS = 60_000;

export interface ReceivedUpload {
  /** `<uploadsDir>/<server id>.upload`; the client's name never reaches the file system. */
  path: string;
  /** The client's file name, for display only. */
  originalName: string;
  /** Non-file fields, unvalidated. */
  fields: Record<string, string>;
  bytes: number;
}

/** Room for the multipart envelope and a few small fields around the file. */
const ENVELOPE_BYTES = 64 * 1024;
/**
 * After a refusal the rest of the body is read and thrown away, so the client gets to read our
 * answer instead of a reset connection; past these bounds the connection is cut instead.
 */
const DRAIN_BYTES = 16 * 1024 * 1024;
const DRAIN_MS = 10_000;

const MULTIPART_SENTENCE = (field: string) =>
  `Send the image as multipart/form-data with the file in the field "${field}".`;

/**
 * Streams the one file of a multipart request to a temporary name next to its final name, and
 * renames it when the whole request has been parsed, so nothing else ever sees half a file. On
 * any refusal the partial file is removed and the rest of the body is discarded, not stored.
 */
export async function receiveUpload(
  req: IncomingMessage,
  options: ReceiveOptions,
): Promise<ReceivedUpload> {
  const { uploadsDir, maxBytes, fileField } = options;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_UPLOAD_IDLE_TIMEOUT_MS;
  if (!/^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '')) {
    discardBody(req);
    throw new HttpError(400, MULTIPART_SENTENCE(fileField));
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + ENVELOPE_BYTES) {
    discardBody(req);
    throw tooLarge(maxBytes);
  }
  await mkdir(uploadsDir, { recursive: true });
  const id = randomUUID();
  const finalPath = join(uploadsDir, `${id}.upload`);
  const partPath = join(uploadsDir, `.${id}.upload.part`);

  return new Promise<ReceivedUpload>((resolve, reject) => {
    let settled = false;
    let out: WriteStream | null = null;
    let written: Promise<void> | null = null;
    let originalName = '';
    let bytes = 0;
    // No prototype: a field named "__proto__" or "constructor" is a field like any other.
    const fields = Object.create(null) as Record<string, string>;
    // A slow client holds a connection and a partial file; one that stops sending is dropped.
    // A chunk only notes the time (a gigapixel body is thousands of chunks, and re-arming a
    // timer for each is measurable); the one timer checks it when it fires and waits the rest.
    let idle: NodeJS.Timeout | undefined;
    let lastProgress = performance.now();
    const stalled = () =>
      fail(
        new HttpError(
          408,
          `The upload made no progress for ${idleMs / 1000} s and was dropped; retry, or raise UPLOAD_IDLE_TIMEOUT_MS for very slow links.`,
        ),
      );
    const watchIdle = () => {
      if (settled) return;
      const quietMs = performance.now() - lastProgress;
      if (quietMs >= idleMs) stalled();
      else idle = setTimeout(watchIdle, idleMs - quietMs);
    };
    const progress = () => {
      lastProgress = performance.now();
    };
    req.on('data', progress);

    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      req.off('data', progress);
      req.unpipe(parser);
      discardBody(req);
      void removePartial(out, partPath).then(
        () => reject(err),
        () => reject(err),
      );
    };

    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          fileSize: maxBytes,
          files: 1,
          fields: 8,
          parts: 9,
          fieldSize: 1024,
          fieldNameSize: 64,
          headerPairs: 32,
        },
      });
    } catch (err) {
      discardBody(req);
      reject(new HttpError(400, `${MULTIPART_SENTENCE(fileField)} (${(err as Error).message})`));
      return;
    }

    parser.on('file', (name, stream: Readable & { truncated?: boolean }, info) => {
      if (settled || name !== fileField || out) {
        stream.resume();
        fail(
          new HttpError(
            400,
            `Unexpected file field "${name}". ${MULTIPART_SENTENCE(fileField)} Send exactly one file.`,
          ),
        );
        return;
      }
      originalName = displayName(info.filename);
      // A deep buffer lets chunks that arrive during a write go down in one writev: a 64 MB
      // upload in 64 KiB writes costs about twice as long.
      out = createWriteStream(partPath, { flags: 'wx', mode: 0o640, highWaterMark: 4 << 20 });
      stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
      stream.on('limit', () => fail(tooLarge(maxBytes)));
      written = pipeline(stream, out).catch((err: NodeJS.ErrnoException) => {
        fail(
          new HttpError(
            500,
            `The upload could not be stored on the shared volume (${err.code ?? 'write error'}).`,
            { cause: err },
          ),
        );
      });
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated || info.nameTruncated) {
        fail(new HttpError(400, `The form field "${name.slice(0, 64)}" is too long.`));
      } else if (Object.hasOwn(fields, name)) {
        fail(new HttpError(400, `The form field "${name}" was sent twice.`));
      } else {
        fields[name] = value;
      }
    });
    const tooMany = () =>
      fail(new HttpError(400, `Too many parts in the form. ${MULTIPART_SENTENCE(fileField)}`));
    parser.on('filesLimit', () =>
      fail(new HttpError(400, `More than one file was sent. ${MULTIPART_SENTENCE(fileField)}`)),
    );
    parser.on('fieldsLimit', tooMany);
    parser.on('partsLimit', tooMany);
    parser.on('error', (err) =>
      fail(new HttpError(400, `The upload is not a valid multipart form: ${errorText(err)}.`)),
    );
    parser.on('close', () => {
      void (async () => {
        await written;
        if (settled) return;
        if (!out) {
          fail(new HttpError(400, `No file was sent. ${MULTIPART_SENTENCE(fileField)}`));
          return;
        }
        try {
          await rename(partPath, finalPath);
        } catch (err) {
          fail(
            new HttpError(500, 'The upload could not be stored on the shared volume.', {
              cause: err,
            }),
          );
          return;
        }
        settled = true;
        clearTimeout(idle);
        req.off('data', progress);
        resolve({ path: finalPath, originalName, fields, bytes });
      })();
    });
    // A client that goes away mid-upload leaves no partial file behind.
    req.on('close', () => {
      if (!req.complete) fail(new HttpError(400, 'The client closed the connection mid-upload.'));
    });
    idle = setTimeout(watchIdle, idleMs);
    req.pipe(parser);
  });
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(
    413,
    `The file is larger than the limit of ${formatBytes(maxBytes)} (MAX_UPLOAD_BYTES).`,
  );
}

/** Reads and drops what is left of the body, within bounds (see DRAIN_BYTES). */
export function discardBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  let dropped = 0;
  const cut = () => req.destroy();
  const timer = setTimeout(cut, DRAIN_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DRAIN_BYTES) cut();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

async function removePartial(out: WriteStream | null, partPath: string): Promise<void> {
  // Wait for the stream to close first: an open still in flight would recreate the file.
  if (out && !out.closed) {
    const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
    out.destroy();
    await closed;
  }
  await rm(partPath, { force: true });
}

/** The client's name for display: no control characters, bounded, never empty. */
function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\.$/, '');
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
