import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { HisteqError, errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import {
  LineSplitter,
  type FollowOptions,
  type LineHandler,
  type LogSource,
  type StopFollowing,
} from './log-source.js';

export interface FileLogSourceOptions {
  /** Folder holding one `<pod>.log` per local pod (see `podLogPath`). */
  logDir: string;
  logger: Logger;
  /**
   * Safety-net poll (default 500 ms). fs.watch is the fast path but misses events on network
   * and some container filesystems, and cannot watch a file that does not exist yet.
   */
  pollIntervalMs?: number;
}

export interface FileFollowOptions extends FollowOptions {
  /** Byte offset to start at; overrides `backlogLines`. Default: the current end of file. */
  fromOffset?: number;
}

/** Where a local pod's log lives; the launcher writes there and this source reads it. */
export function podLogPath(logDir: string, pod: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(pod)) {
    throw new HisteqError('BAD_REQUEST', `invalid pod name for a log file: ${JSON.stringify(pod)}`);
  }
  return path.join(logDir, `${pod}.log`);
}

/** Local-mode pod logs: tails `<logDir>/<pod>.log`, like `tail -F`. */
export class FileLogSource implements LogSource {
  constructor(private readonly options: FileLogSourceOptions) {}

  follow(pod: string, onLine: LineHandler, options: FileFollowOptions = {}): StopFollowing {
    const tailer = new FileTailer(
      podLogPath(this.options.logDir, pod),
      onLine,
      this.options.logger.child({ component: 'file-log-source', followedPod: pod }),
      this.options.pollIntervalMs ?? 500,
    );
    void tailer.start(options);
    return () => tailer.stop();
  }
}

const READ_CHUNK = 64 * 1024;
const BACKLOG_WINDOW = 256 * 1024;
/** Bytes before the read position remembered to notice a truncate-then-regrow between polls. */
const FINGERPRINT = 32;

class FileTailer {
  private position = 0;
  private fingerprint: Buffer = Buffer.alloc(0);
  private inode: number | undefined;
  private readonly splitter = new LineSplitter();
  private stopped = false;
  private reading = false;
  private again = false;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly onLine: LineHandler,
    private readonly logger: Logger,
    private readonly pollIntervalMs: number,
  ) {}

  async start(options: FileFollowOptions): Promise<void> {
    try {
      const st = await stat(this.file);
      this.inode = st.ino;
      if (options.fromOffset !== undefined) this.position = options.fromOffset;
      else if (options.backlogLines) await this.readBacklog(st.size, options.backlogLines);
      else this.position = st.size;
      this.fingerprint = await this.readFingerprint();
    } catch (err) {
      // Not there yet: the pod has not started writing. Everything it writes is new.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.warn('cannot stat log', err);
      this.position = options.fromOffset ?? 0;
    }
    if (this.stopped) return;
    this.watchDir();
    this.timer = setInterval(() => this.poll(), this.pollIntervalMs);
    this.timer.unref(); // a forgotten follower must not keep the process alive
    this.poll();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.watcher?.close();
  }

  /** Coalesces triggers: one read at a time, and one more if something changed meanwhile. */
  private poll(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    void (async () => {
      do {
        this.again = false;
        try {
          await this.check();
        } catch (err) {
          this.warn('cannot read log', err);
        }
      } while (this.again && !this.stopped);
      this.reading = false;
    })();
  }

  private async check(): Promise<void> {
    let st;
    try {
      st = await stat(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (this.inode !== undefined) this.restart('log file removed');
      this.inode = undefined;
      return;
    }
    if (this.inode !== undefined && st.ino !== this.inode) this.restart('log file replaced');
    else if (st.size < this.position) this.restart('log file truncated');
    this.inode = st.ino;
    if (st.size <= this.position) return;
    if (!(await this.readFingerprint()).equals(this.fingerprint)) {
      this.restart('log file rewritten');
    }
    await this.readNew(st.size);
  }

  private restart(reason: string): void {
    this.logger.info({ file: this.file, reason }, 'following log from the start');
    this.position = 0;
    this.fingerprint = Buffer.alloc(0);
    this.splitter.reset();
  }

  private async readNew(size: number): Promise<void> {
    const handle = await open(this.file, 'r');
    try {
      const buffer = Buffer.alloc(READ_CHUNK);
      while (this.position < size && !this.stopped) {
        const want = Math.min(READ_CHUNK, size - this.position);
        const { bytesRead } = await handle.read(buffer, 0, want, this.position);
        if (bytesRead === 0) break; // shrank under us; the next check notices
        this.position += bytesRead;
        for (const line of this.splitter.push(buffer.subarray(0, bytesRead))) this.emit(line);
      }
      this.fingerprint = await readAt(handle, this.position);
    } finally {
      await handle.close();
    }
  }

  /** Delivers the last `lines` complete lines and positions after them. */
  private async readBacklog(size: number, lines: number): Promise<void> {
    const start = Math.max(0, size - BACKLOG_WINDOW);
    const handle = await open(this.file, 'r');
    let window: Buffer;
    try {
      window = Buffer.alloc(size - start);
      const { bytesRead } = await handle.read(window, 0, window.length, start);
      window = window.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
    const lastNewline = window.lastIndexOf(0x0a);
    this.position = start + lastNewline + 1; // an unterminated tail is read as new data
    if (lastNewline < 0) return;
    let text = window.subarray(0, lastNewline).toString('utf8').split('\n');
    if (start > 0) text = text.slice(1); // the window began mid-line
    for (const line of text.slice(-lines)) this.emit(line.replace(/\r$/, ''));
  }

  private async readFingerprint(): Promise<Buffer> {
    if (this.position === 0) return Buffer.alloc(0);
    try {
      const handle = await open(this.file, 'r');
      try {
        return await readAt(handle, this.position);
      } finally {
        await handle.close();
      }
    } catch {
      return Buffer.alloc(0);
    }
  }

  private emit(line: string): void {
    if (this.stopped) return;
    try {
      this.onLine(line);
    } catch (err) {
      this.warn('log line handler threw; line dropped', err);
    }
  }

  /** Watches the folder, not the file: it sees the file being created, replaced or renamed. */
  private watchDir(): void {
    const name = path.basename(this.file);
    try {
      this.watcher = watch(path.dirname(this.file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) this.poll();
      });
      this.watcher.on('error', () => {
        this.watcher?.close(); // polling carries on alone
        this.watcher = undefined;
      });
    } catch {
      // Folder missing or watching unsupported: the poll timer covers it.
    }
  }

  private warn(message: string, err: unknown): void {
    this.logger.warn({ file: this.file, err: errorMessage(err) }, message);
  }
}

/** The up-to-FINGERPRINT bytes just before `position`. */
async function readAt(handle: FileHandle, position: number): Promise<Buffer> {
  const length = Math.min(FINGERPRINT, position);
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position - length);
  return buffer.subarray(0, bytesRead);
}
