import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { HisteqError } from '../common/errors.js';
import { DEFAULT_FOUR_LETTER_WORDS, fourLetterWord } from './four-letter-words.js';
import { freePort } from './free-port.js';
import {
  ZOOKEEPER_MISSING_MESSAGE,
  zookeeperClasspath,
  zookeeperJarsAvailable,
} from './zookeeper-jars.js';

const LOG_TAIL_LINES = 200;

export interface ZookeeperServerOptions {
  /** Data directory; default: a fresh temp dir, removed by `stop()`. */
  dataDir?: string;
  /** Client port; default: a free loopback port picked by binding port 0. */
  port?: number;
  host?: string;
  /** Default 500 ms, so sessions of 1–60 s are all honoured (min = 2 ticks). */
  tickTimeMs?: number;
  /** Bound on waiting for the server to answer `srvr`; default 30 s. */
  startTimeoutMs?: number;
  /** Bound on a graceful stop before SIGKILL; default 5 s. */
  stopTimeoutMs?: number;
  /**
   * fsync every transaction (default false). Losing the process never loses page-cached
   * writes, only losing the machine does; a local cluster and tests don't need that cost.
   */
  forceSync?: boolean;
  javaPath?: string;
  /** 4lw.commands.whitelist; default DEFAULT_FOUR_LETTER_WORDS. */
  fourLetterWords?: readonly string[];
}

/** A real standalone ZooKeeper server run as a child java process, for local mode and tests. */
export class ZookeeperServer {
  readonly host: string;
  readonly dataDir: string;
  #port: number;
  readonly #options: Required<Omit<ZookeeperServerOptions, 'dataDir' | 'port' | 'host'>>;
  readonly #ownsDataDir: boolean;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #log: string[] = [];
  /** Whether the process started last logged that it serves on our port (see #serving). */
  #bound = false;
  #paused = false;
  #stopped = false;
  #stopping: Promise<void> | null = null;
  readonly #killOnExit = (): void => {
    this.#child?.kill('SIGKILL');
  };

  private constructor(
    options: ZookeeperServerOptions,
    dataDir: string,
    ownsDataDir: boolean,
    port: number,
  ) {
    this.host = options.host ?? '127.0.0.1';
    this.dataDir = dataDir;
    this.#ownsDataDir = ownsDataDir;
    this.#port = port;
    this.#options = {
      tickTimeMs: options.tickTimeMs ?? 500,
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      stopTimeoutMs: options.stopTimeoutMs ?? 5_000,
      forceSync: options.forceSync ?? false,
      javaPath: options.javaPath ?? 'java',
      fourLetterWords: options.fourLetterWords ?? DEFAULT_FOUR_LETTER_WORDS,
    };
  }

  static async start(options: ZookeeperServerOptions = {}): Promise<ZookeeperServer> {
    if (!zookeeperJarsAvailable()) throw new HisteqError('BAD_CONFIG', ZOOKEEPER_MISSING_MESSAGE);
    const host = options.host ?? '127.0.0.1';
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'histeq-zk-')));
    // A port picked by binding 0 can be taken again before java binds it: retry with a new one.
    const attempts = options.port === undefined ? 3 : 1;
    for (let attempt = 1; ; attempt++) {
      const port = options.port ?? (await freePort(host));
      const server = new ZookeeperServer(options, dataDir, ownsDataDir, port);
      try {
        await server.#launch();
        return server;
      } catch (err) {
        const portTaken = /Address already in use/i.test(server.logTail());
        await server.#shutdown('SIGKILL');
        if (!portTaken || attempt >= attempts) {
          if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
          throw err;
        }
      }
    }
  }

  get port(): number {
    return this.#port;
  }

  get connectionString(): string {
    return `${this.host}:${this.#port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  /** The last lines the server logged (stdout and stderr), for error messages. */
  logTail(lines = 40): string {
    return this.#log.slice(-lines).join('\n');
  }

  /** Sends a four-letter word (e.g. `srvr`, `wchc`) and returns the whole answer. */
  fourLetterWord(word: string, timeoutMs = 2_000): Promise<string> {
    return fourLetterWord(this.host, this.#port, word, timeoutMs);
  }

  /** SIGSTOP: the server keeps its sockets but answers nothing, like a hung JVM. */
  pause(): void {
    if (!this.#child || this.#paused) return;
    this.#child.kill('SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    if (!this.#child || !this.#paused) return;
    this.#child.kill('SIGCONT');
    this.#paused = false;
  }

  /** SIGKILL and wait for the exit; the server can be started again with `restart()`. */
  async kill(): Promise<void> {
    await this.#shutdown('SIGKILL');
  }

  /**
   * Stops the process (SIGTERM, or SIGKILL if asked) and starts it again on the same port and
   * data dir; sessions whose timeout has not run out meanwhile survive.
   */
  async restart(options: { signal?: 'SIGTERM' | 'SIGKILL' } = {}): Promise<void> {
    if (this.#stopped) throw new HisteqError('INTERNAL', 'ZooKeeper server was stopped for good');
    await this.#shutdown(options.signal ?? 'SIGTERM');
    await this.#launch();
  }

  /** Stops for good (SIGTERM, SIGKILL after a bound) and removes a temp data dir. Idempotent. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping ??= (async () => {
      await this.#shutdown('SIGTERM');
      if (this.#ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
    })();
    return this.#stopping;
  }

  async #launch(): Promise<void> {
    const { javaPath, startTimeoutMs } = this.#options;
    await mkdir(this.dataDir, { recursive: true });
    const cfgPath = join(this.dataDir, 'zoo.cfg');
    await writeFile(cfgPath, this.#config());
    this.#bound = false;
    const child = spawn(
      javaPath,
      [
        '-Xmx256m',
        // Serial GC and C1 only: a 1-core container starts the JVM in about a second.
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Djava.awt.headless=true',
        '-Dorg.slf4j.simpleLogger.showDateTime=true',
        '-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS',
        '-cp',
        zookeeperClasspath(),
        'org.apache.zookeeper.server.ZooKeeperServerMain',
        cfgPath,
      ],
      // Its own process group: a Ctrl-C meant for the launcher must not kill ZooKeeper while
      // the pods are still draining; we stop it ourselves (and SIGKILL it on exit). Its own
      // session too (unlike the pods, see own-group.ts): under autogroup scheduling that is a
      // CPU share of its own, so busy pods cannot starve the heartbeats it answers.
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    this.#child = child;
    this.#paused = false;
    process.on('exit', this.#killOnExit);
    let exitCode: string | null = null;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exitCode = signal ?? String(code);
        this.#remember(`[zookeeper-server] java exited (${exitCode})`);
        if (this.#child === child) this.#child = null;
        process.off('exit', this.#killOnExit);
        resolve();
      });
      child.once('error', (err) => {
        exitCode = err.message;
        this.#remember(`[zookeeper-server] cannot run ${javaPath}: ${err.message}`);
        if (this.#child === child) this.#child = null;
        process.off('exit', this.#killOnExit);
        resolve();
      });
    });
    // Whole lines (a chunk can end mid-line): the readiness check looks for one of them.
    for (const stream of [child.stdout, child.stderr]) {
      if (stream)
        createInterface({ input: stream }).on('line', (line) => line && this.#remember(line));
    }
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (exitCode !== null) break;
      if (await this.#serving()) return;
      await sleep(100);
    }
    const why =
      exitCode !== null ? `java exited (${exitCode})` : `no answer within ${startTimeoutMs} ms`;
    throw new HisteqError(
      'INTERNAL',
      `ZooKeeper server on ${this.connectionString} did not start: ${why}. Last log lines:\n` +
        this.logTail(),
    );
  }

  /**
   * `srvr` answers "not currently serving" until the database is loaded (`ruok` would not);
   * our process logging that it serves on the port proves the answer is ours and not another
   * server's (ours could not have bound a port someone else holds). `conf` would say so too,
   * but it is not answered: it tells anyone on the port how the server is set up.
   */
  async #serving(): Promise<boolean> {
    const status = await this.fourLetterWord('srvr', 1_000).catch(() => '');
    if (!/^Mode: /m.test(status)) return false;
    return this.#bound;
  }

  async #shutdown(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child) return this.#exited;
    // A stopped process keeps SIGTERM pending until it is continued.
    if (this.#paused) this.resume();
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      this.#exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.#options.stopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!exited) {
      child.kill('SIGKILL');
      await this.#exited;
    }
  }

  #config(): string {
    const { tickTimeMs, forceSync } = this.#options;
    return [
      `tickTime=${tickTimeMs}`,
      `dataDir=${this.dataDir}`,
      `clientPort=${this.#port}`,
      `clientPortAddress=${this.host}`,
      `minSessionTimeout=${2 * tickTimeMs}`,
      `maxSessionTimeout=${Math.max(60_000, 20 * tickTimeMs)}`,
      // Every pod and test client connects from the same loopback address.
      'maxClientCnxns=0',
      'admin.enableServer=false',
      `4lw.commands.whitelist=${this.#options.fourLetterWords.join(',')}`,
      `forceSync=${forceSync ? 'yes' : 'no'}`,
      // A long-running local cluster would otherwise keep every snapshot forever.
      'autopurge.snapRetainCount=3',
      'autopurge.purgeInterval=1',
      '',
    ].join('\n');
  }

  #remember(line: string): void {
    // Logged once the port is bound and requests are processed; a process that failed to
    // bind the port never gets that far.
    if (line.includes(`cport:${this.#port})`) && /PrepRequestProcessor.* started/.test(line)) {
      this.#bound = true;
    }
    this.#log.push(line);
    if (this.#log.length > LOG_TAIL_LINES) this.#log.splice(0, this.#log.length - LOG_TAIL_LINES);
  }
}
