import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { io } from 'socket.io-client';
import { HisteqError } from '../common/errors.js';
import { isFinished, type JobStatusEvent } from '../jobs/types.js';
import {
  IDLE_TIMEOUT_MS,
  authHeaders,
  readJson,
  refusal,
  send,
  unreachable,
  type Server,
} from './submit-upload.js';

/**
 * Follows job `id` over Socket.IO until it ends and returns its final status. On every
 * (re)connection (a master failover drops the socket; the front door leads the retry to the new
 * master) it also reads GET /api/jobs/<id>, so an end missed while disconnected is not waited for.
 * Bounded by `waitMs` overall and by IDLE_TIMEOUT_MS without a connection.
 */
export async function followJob(
  server: Server,
  id: string,
  waitMs: number,
  onStatus: (status: JobStatusEvent) => void,
): Promise<JobStatusEvent> {
  const socket = io(server.url.origin, {
    auth: server.token ? { token: server.token } : {},
    transports: ['websocket'],
    reconnectionDelay: 200,
    reconnectionDelayMax: 2000,
  });
  try {
    return await new Promise<JobStatusEvent>((resolve, reject) => {
      let ended = false;
      let offline: NodeJS.Timeout | undefined;
      // Every way out clears both timers: none may keep the process alive after the end.
      const end = (outcome: () => void) => {
        if (ended) return;
        ended = true;
        clearTimeout(overall);
        clearTimeout(offline);
        outcome();
      };
      const overall = setTimeout(() => {
        const sentence = `Job ${id} did not end within ${waitMs / 1000} s; it keeps running on the cluster.`;
        end(() => reject(new HisteqError('BAD_REQUEST', sentence)));
      }, waitMs);
      const armOffline = (why: string) => {
        if (ended) return;
        offline ??= setTimeout(() => {
          const sentence = `no connection for ${IDLE_TIMEOUT_MS / 1000} s: ${why}`;
          end(() => reject(unreachable(server, sentence)));
        }, IDLE_TIMEOUT_MS);
      };
      const settle = (status: JobStatusEvent) => {
        if (ended) return;
        onStatus(status);
        if (isFinished(status.state)) end(() => resolve(status));
      };
      socket.on('job_status', (status) => {
        if ((status as JobStatusEvent).id === id) settle(status as JobStatusEvent);
      });
      socket.on('connect', () => {
        clearTimeout(offline);
        offline = undefined;
        readStatus(server, id).then(
          (status) => status && settle(status),
          () => undefined,
        );
      });
      socket.on('disconnect', (reason) => armOffline(reason));
      socket.on('connect_error', (err: Error & { data?: { status?: number } }) => {
        if (err.data?.status === 401) {
          end(() => reject(refusal(401, { error: err.message }, 'the connection')));
          return;
        }
        armOffline(err.message);
      });
      armOffline('connecting');
    });
  } finally {
    socket.close();
  }
}

async function readStatus(server: Server, id: string): Promise<JobStatusEvent | null> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(new URL(`/api/jobs/${id}`, server.url), {
      method: 'GET',
      headers: authHeaders(server),
    });
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.on('response', resolve).on('error', reject).end();
  });
  const answer = await readJson(response);
  return response.statusCode === 200 ? (answer as unknown as JobStatusEvent) : null;
}

/** Streams GET `path` to `out` through a temporary name, so `out` is never half written. */
export async function downloadResult(server: Server, path: string, out: string): Promise<void> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(new URL(path, server.url), { method: 'GET', headers: authHeaders(server) });
    req.setTimeout(IDLE_TIMEOUT_MS, () =>
      req.destroy(unreachable(server, `the download stalled for ${IDLE_TIMEOUT_MS / 1000} s`)),
    );
    req.on('response', resolve);
    req.on('error', (err) =>
      reject(err instanceof HisteqError ? err : unreachable(server, err.message)),
    );
    req.end();
  });
  if (response.statusCode !== 200) {
    throw refusal(response.statusCode ?? 0, await readJson(response), 'the download');
  }
  const part = `${out}.part`;
  try {
    await pipeline(response, createWriteStream(part));
    await rename(part, out);
  } catch (err) {
    await rm(part, { force: true });
    throw new HisteqError(
      'BAD_REQUEST',
      `The download of the result to ${out} failed: ${(err as Error).message}.`,
    );
  }
}
