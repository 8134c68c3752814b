import { backoffDelay } from '../common/backoff.js';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { LineSplitter } from '../cluster/log-source.js';
import type { Logger } from '../common/log.js';
import { prettyLine } from '../common/log.js';
import { spawnInOwnGroup } from './own-group.js';

export interface RestartBackoff {
  /** First delay after a crash (default 500 ms); doubles with every crash in a row. */
  baseMs: number;
  /** Ceiling of the delay (default 30 s), like CrashLoopBackOff's. */
  maxMs: number;
  /** A run this long counts as healthy and resets the delay (default 30 s). */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: RestartBackoff = { baseMs: 500, maxMs: 30_000, resetAfterMs: 30_000 };

export interface PodProcessOptions {
  name: string;
  port: number;
  /** The pod program (dist/src/main.js). */
  entry: string;
  env: NodeJS.ProcessEnv;
  /** `<LOG_DIR>/<pod>.log`, appended to across restarts. */
  logFile: string;
  /** Where prefixed lines go (the launcher's stdout); null for none. */
  console: NodeJS.WritableStream | null;
  /** ANSI colour code for the prefix, or null for plain text. */
  colour: number | null;
  backoff: RestartBackoff;
  logger: Logger;
}

/**
 * One pod of the local cluster: a child process restarted with exponential backoff when it
 * exits, as a Deployment would, until the launcher stops it.
 */
export class PodProcess {
  readonly name: string;
  readonly port: number;
  /** Restarts so far (like a container's restartCount). */
  restarts = 0;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #crashesInRow = 0;
  #restartTimer: NodeJS.Timeout | null = null;
  #stopping = false;
  readonly #log: WriteStream;
  readonly #prefix: string;

  constructor(private readonly options: PodProcessOptions) {
    this.name = options.name;
    this.port = options.port;
    this.#log = createWriteStream(options.logFile, { flags: 'a' });
    this.#log.on('error', (err) =>
      options.logger.warn({ podName: this.name, err: err.message }, 'cannot write pod log file'),
    );
    const label = `[${options.name}]`;
    this.#prefix = options.colour === null ? label : `\x1b[${options.colour}m${label}\x1b[0m`;
  }

  get process(): ChildProcess | null {
    return this.#child;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  start(): void {
    if (this.#stopping || this.#child) return;
    const startedAt = Date.now();
    // Own process group (Ctrl-C reaches the launcher only), same session (shared CPU group).
    const child = spawnInOwnGroup(process.execPath, [this.options.entry], {
      env: this.options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#pipe(child.stdout);
    this.#pipe(child.stderr);
    this.#exited = new Promise((resolve) => {
      const onGone = (how: string) => {
        if (this.#child !== child) return;
        this.#child = null;
        resolve();
        this.#afterExit(how, Date.now() - startedAt);
      };
      // 'close', not 'exit': by then stdout and stderr are drained into the log.
      child.once('close', (code, signal) => onGone(signal ?? `code ${code}`));
      child.once('error', (err) => onGone(`spawn failed: ${err.message}`));
    });
  }

  /** Sends a signal to the running process (fault drills); false when none is running. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): boolean {
    return this.#child?.kill(signal) ?? false;
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; no restart afterwards. Idempotent. */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (child) {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const exitedInTime = await Promise.race([
        this.#exited.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (!exitedInTime) {
        this.options.logger.warn({ podName: this.name }, 'pod did not stop in time: SIGKILL');
        child.kill('SIGKILL');
        await this.#exited;
      }
    }
    await new Promise<void>((resolve) => this.#log.end(() => resolve()));
  }

  #afterExit(how: string, ranMs: number): void {
    if (this.#stopping) {
      this.options.logger.info({ podName: this.name, exit: how }, 'pod stopped');
      return;
    }
    const { baseMs, maxMs, resetAfterMs } = this.options.backoff;
    this.#crashesInRow = ranMs >= resetAfterMs ? 1 : this.#crashesInRow + 1;
    const delayMs = backoffDelay(this.#crashesInRow, baseMs, maxMs);
    this.options.logger.warn(
      { podName: this.name, exit: how, ranMs, delayMs, restarts: this.restarts + 1 },
      'pod exited; restarting after backoff',
    );
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      this.restarts++;
      this.start();
    }, delayMs);
  }

  /** Whole lines to the pod's file (raw) and to the console (prefixed and readable). */
  #pipe(stream: Readable | null): void {
    if (!stream) return;
    const splitter = new LineSplitter();
    const emit = (lines: string[]) => {
      for (const line of lines) {
        if (!this.#log.writableEnded) this.#log.write(line + '\n');
        // prettyLine names the pod itself; the coloured prefix already does.
        const text = prettyLine(line).replace(` [${this.name}] `, ' ');
        this.options.console?.write(`${this.#prefix} ${text.endsWith('\n') ? text : text + '\n'}`);
      }
    };
    stream.on('data', (chunk: Buffer) => emit(splitter.push(chunk)));
    // A last line without a newline (a crash message) is still worth keeping.
    stream.on('end', () => emit(splitter.push(Buffer.from('\n')).filter((l) => l !== '')));
  }
}
