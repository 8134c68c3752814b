import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import * as tus from 'tus-js-client';
import { DetailedError, Upload, type HttpRequest, type HttpResponse } from 'tus-js-client';
import { HisteqError } from '../common/errors.js';
import { JOB_ID_HEADER, TUS_PATH } from '../web/tus/protocol.js';

/** How long the server may stay silent (no byte read or answered) before the client gives up. */
export const IDLE_TIMEOUT_MS = 60_000;

export interface Server {
  url: URL;
  token?: string;
}

export function authHeaders(server: Server): Record<string, string> {
  return server.token ? { Authorization: `Bearer ${server.token}` } : {};
}

/**
 * A small authenticated request before the upload: an unreachable server or a wrong token is
 * told at once, not after a large file was read, and not as the connection reset a server
 * refusing a body mid-stream may cause.
 */
export async function checkServer(server: Server): Promise<void> {
  const { status, answer } = await getJson(server, new URL('/api/config', server.url));
  if (status === 401) throw refusal(401, answer, 'the token');
}

/**
 * An authenticated GET of a small JSON answer, bounded by IDLE_TIMEOUT_MS of silence; an
 * unreachable server is told as such.
 */
async function getJson(
  server: Server,
  url: URL,
): Promise<{ status: number; answer: Record<string, unknown> }> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(url, { method: 'GET', headers: authHeaders(server) });
    req.setTimeout(IDLE_TIMEOUT_MS, () =>
      req.destroy(unreachable(server, `no answer for ${IDLE_TIMEOUT_MS / 1000} s`)),
    );
    req.on('response', resolve);
    req.on('error', (err) =>
      reject(err instanceof HisteqError ? err : unreachable(server, err.message)),
    );
    req.end();
  });
  return { status: response.statusCode ?? 0, answer: await readJson(response) };
}

/**
 * How long a resumable upload keeps trying after a failed request before giving up: long
 * enough for a master failover (a new election, then the front door's next read).
 */
export const RETRY_DELAYS_MS = [0, 500, 1000, 2000, 3000, 5000, 5000, 10_000, 10_000, 10_000];

/** Node's build of tus-js-client has a file-backed store its type declarations leave out. */
const { FileUrlStorage } = tus as unknown as {
  FileUrlStorage: new (path: string) => tus.UrlStorage;
};

/**
 * Where `histeq submit` remembers its unfinished uploads (`$XDG_CACHE_HOME/histeq/uploads.json`,
 * else `~/.cache/histeq/uploads.json`), so that the same command run again continues one.
 */
export function uploadStatePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'histeq', 'uploads.json');
}

/**
 * Sends `file` as a resumable upload (tus, POST /api/uploads then PATCHes) and returns the job
 * id the server made of it. A connection reset, a 503 from a worker or the front door, or a
 * master failover mid-upload is retried: the client asks the (new) master for the offset it
 * has stored and sends only the rest. An upload of the same file (path, size, modification
 * time), to the same server with the same options, that an earlier run left unfinished is
 * continued (`onResume` is told). `onBytes` sees the bytes the server has so far.
 */
export async function uploadFile(
  server: Server,
  file: { path: string; size: number },
  fields: Record<string, string>,
  onBytes: (sent: number) => void,
  onResume: () => void = () => {},
): Promise<string> {
  // tus-js-client reads a ReadStream with a path by ranges, so a retry re-reads from the offset.
  const input = createReadStream(file.path);
  const endpoint = new URL(TUS_PATH, server.url).toString();
  const statePath = uploadStatePath();
  await mkdir(dirname(statePath), { recursive: true });
  const key = await uploadKey(file.path, endpoint, fields);
  try {
    const { uploadUrl, jobId } = await new Promise<{ uploadUrl: string; jobId?: string }>(
      (resolve, reject) => {
        const upload: Upload = new Upload(input, {
          endpoint,
          uploadSize: file.size,
          metadata: { ...fields, name: basename(file.path) },
          headers: authHeaders(server),
          retryDelays: RETRY_DELAYS_MS,
          urlStorage: new FileUrlStorage(statePath),
          fingerprint: () => Promise.resolve(key),
          removeFingerprintOnSuccess: true,
          onAfterResponse: keepUploadThroughFailover,
          onProgress: (sent) => onBytes(sent),
          onSuccess: ({ lastResponse }) =>
            resolve({
              uploadUrl: upload.url ?? '',
              jobId: lastResponse.getHeader(JOB_ID_HEADER) || undefined,
            }),
          onError: (err) => reject(uploadError(server, err, file.size)),
        });
        // An unreadable memory of earlier runs costs the resume, never the upload.
        upload
          .findPreviousUploads()
          .catch(() => [])
          .then((previous) => {
            // Newest first: an expired one is answered 404 and tus starts afresh.
            const last = previous.sort(
              (a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime),
            )[0];
            if (last) {
              onResume();
              upload.resumeFromPreviousUpload(last);
            }
            upload.start();
          }, reject);
      },
    );
    // An upload that was already complete on the master the client resumed at (its last
    // answer was lost in a failover) answers a HEAD, which names no job: ask for it.
    return jobId ?? (await uploadJob(server, uploadUrl));
  } finally {
    input.destroy();
  }
}

/** What makes two runs the same upload: the file as it is now, the server and the options. */
async function uploadKey(
  path: string,
  endpoint: string,
  fields: Record<string, string>,
): Promise<string> {
  const { size, mtimeMs } = await stat(path);
  const options = Object.entries(fields).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify(['histeq', resolvePath(path), size, mtimeMs, endpoint, options]);
}

/**
 * tus-js-client starts a new upload (sending everything again) when asking for the offset (HEAD)
 * answers anything but 2xx or 423; a 503 while masters change is worth waiting out instead: as
 * a failed request it is retried, and the upload keeps its address.
 */
function keepUploadThroughFailover(req: HttpRequest, res: HttpResponse): void {
  const status = res.getStatus();
  if (req.getMethod() === 'HEAD' && status >= 500) {
    throw new Error(`the cluster answered ${status} while asked for the upload's offset`);
  }
}

async function uploadJob(server: Server, uploadUrl: string): Promise<string> {
  const url = new URL(`${new URL(uploadUrl, server.url).pathname}/job`, server.url);
  const { status, answer } = await getJson(server, url);
  if (status === 200 && typeof answer.job_id === 'string') return answer.job_id;
  throw refusal(status, answer, 'the upload');
}

/** The server's own sentence when it answered; otherwise what became of the connection. */
function uploadError(server: Server, err: Error | DetailedError, size: number): HisteqError {
  const response = err instanceof DetailedError ? err.originalResponse : null;
  if (response) {
    let answer: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(response.getBody()) as unknown;
      if (typeof parsed === 'object' && parsed !== null) answer = parsed as Record<string, unknown>;
    } catch {
      answer = { error: response.getBody().trim() || undefined };
    }
    return refusal(response.getStatus(), answer, 'the upload');
  }
  const cause = err instanceof DetailedError ? err.causingError?.message : err.message;
  const waited = RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) / 1000;
  return new HisteqError(
    'BAD_REQUEST',
    `The upload of ${size.toLocaleString('en')} bytes to ${server.url.origin} failed and kept failing for ${waited} s (${cause ?? 'no answer'}): is the cluster running? Run the same command again to continue the upload where it stopped.`,
  );
}

export function send(url: URL, options: { method: string; headers: Record<string, string> }) {
  return (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options);
}

export async function readJson(response: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  response.setEncoding('utf8');
  for await (const chunk of response) {
    text += chunk as string;
    if (text.length > 65_536) break;
  }
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The server's own sentence for a refusal, with what to do about a token. */
export function refusal(status: number, answer: Record<string, unknown>, what: string) {
  const sentence = typeof answer.error === 'string' ? answer.error : `HTTP ${status}.`;
  if (status === 401) {
    return new HisteqError(
      'BAD_REQUEST',
      `The server refused ${what}: ${sentence} Pass the cluster's token with --token or API_TOKEN.`,
    );
  }
  return new HisteqError('BAD_REQUEST', `The server refused ${what} (${status}): ${sentence}`);
}

export function unreachable(server: Server, why: string): HisteqError {
  return new HisteqError(
    'BAD_REQUEST',
    `Cannot reach the cluster at ${server.url.origin} (${why}): is it running? Point --server at its front door.`,
  );
}
