import type { EventEmitter } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'node-zookeeper-client';
import { createLogger, type Logger } from '../../src/common/log.js';
import { ZkSession, type ZkSessionOptions } from '../../src/coordination/index.js';
import { ZookeeperServer, type ZookeeperServerOptions } from '../../src/local/zookeeper-server.js';
import { REPO_ROOT } from './paths.js';

const streams = new Map<string, WriteStream>();

/** A debug-level logger writing to test-output/<file>.log, so a failure can be read afterwards. */
export function testLogger(file: string, pod: string): Logger {
  let stream = streams.get(file);
  if (!stream) {
    const dir = join(REPO_ROOT, 'test-output');
    mkdirSync(dir, { recursive: true });
    stream = createWriteStream(join(dir, `${file}.log`), { flags: 'w' });
    streams.set(file, stream);
  }
  return createLogger({ pod, level: 'debug', destination: stream });
}

/** Runs registered clean-ups in reverse order; every step runs even if an earlier one fails. */
export class Cleanup {
  readonly #steps: (() => unknown)[] = [];

  add(step: () => unknown): void {
    this.#steps.push(step);
  }

  async run(): Promise<void> {
    while (this.#steps.length > 0) {
      const step = this.#steps.pop();
      try {
        await step?.();
      } catch (err) {
        console.error('clean-up step failed:', err);
      }
    }
  }
}

export async function startServer(
  cleanup: Cleanup,
  options: ZookeeperServerOptions = {},
): Promise<ZookeeperServer> {
  const server = await ZookeeperServer.start(options);
  cleanup.add(() => server.stop());
  return server;
}

export async function openSession(
  cleanup: Cleanup,
  server: { connectionString: string },
  log: string,
  pod: string,
  options: Partial<ZkSessionOptions> = {},
): Promise<ZkSession> {
  const session = await ZkSession.create({
    connectionString: server.connectionString,
    sessionTimeoutMs: 2_000,
    logger: testLogger(log, pod),
    ...options,
  });
  cleanup.add(() => session.close());
  return session;
}

/** Polls until `condition` holds; fails with `what` after `timeoutMs`. Returns the wait in ms. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

/** The arguments of the next `event`, or a rejection after `timeoutMs`. */
export function nextEvent<T extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onEvent = (...args: unknown[]): void => {
      clearTimeout(timer);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    emitter.once(event, onEvent);
  });
}

/**
 * Kills a session on the server the classic way: a second client attaches to it with its id
 * and password and closes it. The owner's library then learns of the expiry by itself.
 */
export async function killSession(session: ZkSession, connectionString: string): Promise<void> {
  const credentials = session.sessionCredentials();
  if (!credentials) throw new Error('session has no live client');
  // sessionId/sessionPassword are read by the library's ConnectionManager but not typed.
  const options = {
    sessionTimeout: session.sessionTimeoutMs,
    sessionId: credentials.sessionId,
    sessionPassword: credentials.password,
  };
  const intruder = createClient(connectionString, options as { sessionTimeout: number });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('could not attach to the session')), 5_000);
    intruder.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
    intruder.connect();
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    intruder.once('disconnected', () => {
      clearTimeout(timer);
      resolve();
    });
    intruder.close();
  });
}

/** Parses the `wchc` four-letter word: session id (hex, no 0x) → watched paths. */
export function watchesBySession(wchc: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of wchc.split('\n')) {
    if (/^0x[0-9a-f]+$/i.test(line.trim())) {
      current = [];
      result.set(line.trim().slice(2).toLowerCase().padStart(16, '0'), current);
    } else if (line.trim().startsWith('/') && current) {
      current.push(line.trim());
    }
  }
  return result;
}
