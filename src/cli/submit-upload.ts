import { createReadStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename } from 'node:path';
import { randomUUID } from 'node:crypto';
import { HisteqError } from '../common/errors.js';

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
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(new URL('/api/config', server.url), {
      method: 'GET',
      headers: authHeaders(server),
    });
    req.setTimeout(IDLE_TIMEOUT_MS, () =>
      req.destroy(unreachable(server, `no answer for ${IDLE_TIMEOUT_MS / 1000} s`)),
    );
    req.on('response', resolve);
    req.on('error', (err) =>
      reject(err instanceof HisteqError ? err : unreachable(server, err.message)),
    );
    req.end();
  });
  const answer = await readJson(response);
  if (response.statusCode === 401) throw refusal(401, answer, 'the token');
}

/**
 * Streams `file` to POST /upload as multipart/form-data with a known length (the file is never
 * held in memory) and returns the job id. `onBytes` sees the bytes sent so far.
 */
export async function uploadFile(
  server: Server,
  file: { path: string; size: number },
  fields: Record<string, string>,
  onBytes: (sent: number) => void,
): Promise<string> {
  const boundary = `histeq-${randomUUID()}`;
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  const quoted = basename(file.path).replace(/["\r\n\\]/g, '_');
  head +=
    `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${quoted}"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n';
  const tail = `\r\n--${boundary}--\r\n`;
  const length = Buffer.byteLength(head) + file.size + Buffer.byteLength(tail);
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(new URL('/upload', server.url), {
      method: 'POST',
      headers: {
        ...authHeaders(server),
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': String(length),
      },
    });
    req.setTimeout(IDLE_TIMEOUT_MS, () =>
      req.destroy(unreachable(server, `no answer for ${IDLE_TIMEOUT_MS / 1000} s`)),
    );
    let sent = 0;
    req.on('response', resolve);
    req.on('error', (err) => {
      if (err instanceof HisteqError || sent === 0) {
        reject(err instanceof HisteqError ? err : unreachable(server, err.message));
        return;
      }
      const sentence = `The cluster at ${server.url.origin} closed the connection after ${sent.toLocaleString('en')} of ${file.size.toLocaleString('en')} bytes (${err.message}), as a master failover does: submit the file again.`;
      reject(new HisteqError('BAD_REQUEST', sentence));
    });
    req.write(head);
    const body = createReadStream(file.path);
    body.on('data', (chunk) => {
      sent += chunk.length;
      onBytes(sent);
    });
    body.on('error', (err) => req.destroy(err));
    body.on('end', () => req.end(tail));
    body.pipe(req, { end: false });
  });
  const answer = await readJson(response);
  if (response.statusCode === 200 && typeof answer.job_id === 'string') return answer.job_id;
  throw refusal(response.statusCode ?? 0, answer, 'the upload');
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
