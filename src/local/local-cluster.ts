import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { podLogPath } from '../cluster/file-log-source.js';
import { readLocalMaster, type LocalMasterRecord } from '../cluster/local-labeler.js';
import { HisteqError } from '../common/errors.js';
import { createLogger, type Logger } from '../common/log.js';
import { FrontDoor } from './front-door.js';
import { REPO_ROOT } from './local-config.js';
import { perlAvailable } from './own-group.js';
import { DEFAULT_BACKOFF, PodProcess, type RestartBackoff } from './pod-process.js';
import { freePort } from './free-port.js';
import { ZookeeperServer } from './zookeeper-server.js';

export interface LocalClusterOptions {
  pods: number;
  /** Front door port (0 picks a free one). */
  port: number;
  /** Front door address; default 127.0.0.1. */
  host?: string;
  /** Use this ZooKeeper; default: start a real server on a free loopback port. */
  zkHosts?: string;
  sharedDir: string;
  logDir: string;
  /** The pods' environment before the launcher's own settings; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The pod program; default <repo>/dist/src/main.js. */
  entry?: string;
  /** Where prefixed pod lines go; default process.stdout, null for none. */
  console?: NodeJS.WritableStream | null;
  /** Colour the pod prefixes; default when the console is a terminal and NO_COLOR is unset. */
  colour?: boolean;
  backoff?: Partial<RestartBackoff>;
  /**
   * Bound on a pod's graceful stop before SIGKILL; default 30 s (Kubernetes' default grace
   * period), longer than a pod's own drain timeout.
   */
  stopTimeoutMs?: number;
  logger?: Logger;
  /**
   * The pods' API_TOKEN, which the launcher's own readiness poll must send like any client;
   * default: `env.API_TOKEN`.
   */
  apiToken?: string;
}

/** waitForMaster polls quickly at first (a fresh cluster is up in about a second), then less. */
const POLL_FIRST_MS = 200;
const POLL_MAX_MS = 2_000;

const COLOURS = [36, 33, 35, 32, 34, 96, 93, 95, 92, 94];

/**
 * The embedded local cluster: a ZooKeeper (given or started), N identical pod processes and a
 * front door that follows the master. Tests drive it directly; `npm run local` wraps it.
 */
export class LocalCluster {
  readonly zkHosts: string;
  readonly sharedDir: string;
  readonly logDir: string;
  /** The local registry the master writes and the front door reads. */
  readonly registryPath: string;
  readonly #zk: ZookeeperServer | null;
  readonly #door: FrontDoor;
  readonly #pods: PodProcess[];
  readonly #stopTimeoutMs: number;
  readonly #logger: Logger;
  /** The pods' API_TOKEN: the launcher's own readiness poll must send it like any client. */
  readonly #apiToken: string | undefined;
  readonly #killOnExit = (): void => {
    for (const pod of this.#pods) pod.kill('SIGKILL');
  };
  #stopping: Promise<void> | null = null;

  private constructor(parts: {
    options: LocalClusterOptions;
    zk: ZookeeperServer | null;
    zkHosts: string;
    door: FrontDoor;
    pods: PodProcess[];
    registryPath: string;
    logger: Logger;
  }) {
    this.zkHosts = parts.zkHosts;
    this.sharedDir = parts.options.sharedDir;
    this.logDir = parts.options.logDir;
    this.registryPath = parts.registryPath;
    this.#zk = parts.zk;
    this.#door = parts.door;
    this.#pods = parts.pods;
    this.#stopTimeoutMs = parts.options.stopTimeoutMs ?? 30_000;
    this.#logger = parts.logger;
    this.#apiToken = parts.options.apiToken ?? (parts.options.env?.API_TOKEN || undefined);
  }

  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const entry = options.entry ?? join(REPO_ROOT, 'dist/src/main.js');
    if (!existsSync(entry)) {
      throw new HisteqError('BAD_CONFIG', `The pod program ${entry} does not exist; build first.`);
    }
    if (!Number.isInteger(options.pods) || options.pods < 1) {
      throw new HisteqError('BAD_CONFIG', `A local cluster needs at least one pod.`);
    }
    const logger = options.logger ?? createLogger({ pod: 'local', format: 'pretty' });
    const sharedDir = resolve(options.sharedDir);
    const logDir = resolve(options.logDir);
    const registryPath = join(sharedDir, 'cluster', 'master.json');
    await mkdir(join(sharedDir, 'cluster'), { recursive: true });
    await mkdir(logDir, { recursive: true });
    await removeStaleRegistry(registryPath, logger);

    let zk: ZookeeperServer | null = null;
    let door: FrontDoor | null = null;
    try {
      let zkHosts = options.zkHosts;
      if (!zkHosts) {
        zk = await ZookeeperServer.start();
        zkHosts = zk.connectionString;
        logger.info({ zk: zkHosts, dataDir: zk.dataDir }, 'started ZooKeeper');
      }
      door = await FrontDoor.start({
        registryPath,
        port: options.port,
        host: options.host ?? '127.0.0.1',
        logger,
      });
      if (!perlAvailable())
        logger.warn(
          'perl not found: each pod gets a session (CPU group) of its own, so event loops wait ' +
            'longer behind busy pool threads (README, Performance)',
        );
      const ports = await distinctFreePorts(options.pods, [door.port, zk?.port ?? 0]);
      const out = options.console === undefined ? process.stdout : options.console;
      const colour =
        options.colour ??
        Boolean((out as { isTTY?: boolean } | null)?.isTTY && !process.env.NO_COLOR);
      const pods = ports.map((port, i) => {
        const name = `pod-${i + 1}`;
        return new PodProcess({
          name,
          port,
          entry,
          env: {
            ...(options.env ?? process.env),
            POD_NAME: name,
            PORT: String(port),
            HOST: '127.0.0.1',
            POD_URL: `http://127.0.0.1:${port}`,
            ZK_HOSTS: zkHosts,
            SHARED_DIR: sharedDir,
            ROLE_LABELER: 'local',
            LOCAL_REGISTRY: registryPath,
            // The master's log follower reads the same files the launcher writes.
            LOG_DIR: logDir,
          },
          logFile: podLogPath(logDir, name),
          console: out,
          colour: colour ? COLOURS[i % COLOURS.length]! : null,
          backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
          logger,
        });
      });
      const cluster = new LocalCluster({
        options: { ...options, sharedDir, logDir },
        zk,
        zkHosts,
        door,
        pods,
        registryPath,
        logger,
      });
      // Pods run in their own process groups: if the launcher dies, take them along.
      process.on('exit', cluster.#killOnExit);
      for (const pod of pods) pod.start();
      logger.info({ pods: pods.length, frontDoor: door.url, zk: zkHosts }, 'local cluster started');
      return cluster;
    } catch (err) {
      await door?.close();
      await zk?.stop();
      throw err;
    }
  }

  get frontDoorUrl(): string {
    return this.#door.url;
  }

  get pods(): readonly PodProcess[] {
    return this.#pods;
  }

  pod(name: string): PodProcess | undefined {
    return this.#pods.find((p) => p.name === name);
  }

  /** Signals one pod's process (default SIGKILL); it is restarted with backoff like a crash. */
  killPod(name: string, signal: NodeJS.Signals = 'SIGKILL'): boolean {
    const pod = this.pod(name);
    if (!pod) throw new HisteqError('NOT_FOUND', `There is no pod named ${name}.`);
    return pod.kill(signal);
  }

  /** Resolves once the registry names a master that answers the API through the front door. */
  async waitForMaster(timeoutMs = 60_000): Promise<LocalMasterRecord> {
    const deadline = Date.now() + timeoutMs;
    for (let pause = POLL_FIRST_MS; ; pause = Math.min(POLL_MAX_MS, pause * 2)) {
      const record = await readLocalMaster(this.registryPath);
      if (record && (await this.#masterServing())) return record;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new HisteqError(
          'CLUSTER_DEGRADED',
          `No master was serving within ${timeoutMs} ms; the pod logs are in ${this.logDir}.`,
        );
      }
      await sleep(Math.min(pause, left));
    }
  }

  /** Front door first (no new traffic), then the pods (they drain), then ZooKeeper. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#logger.info('stopping local cluster');
      await this.#door.close();
      await Promise.all(this.#pods.map((pod) => pod.stop(this.#stopTimeoutMs)));
      process.off('exit', this.#killOnExit);
      // A master killed hard could not unpublish itself; none of ours is alive any more.
      await removeStaleRegistry(this.registryPath, this.#logger);
      await this.#zk?.stop();
      this.#logger.info('local cluster stopped');
    })();
    return this.#stopping;
  }

  /**
   * Only the master answers /api/cluster with 200; workers say 503. A 401 means the master
   * does not take the token the pods were given: waiting would not change that.
   */
  async #masterServing(): Promise<boolean> {
    let res: Response;
    try {
      res = await fetch(`${this.#door.url}/api/cluster`, {
        signal: AbortSignal.timeout(2_000),
        headers: this.#apiToken ? { Authorization: `Bearer ${this.#apiToken}` } : {},
      });
      await res.arrayBuffer();
    } catch {
      return false;
    }
    if (res.status === 401) {
      throw new HisteqError(
        'BAD_CONFIG',
        'The master refuses the launcher with 401: the pods and the launcher must share one API_TOKEN.',
      );
    }
    return res.ok;
  }
}

/** A registry left by a launcher that died hard names a dead pod; a live one is left alone. */
async function removeStaleRegistry(registryPath: string, logger: Logger): Promise<void> {
  const record = await readLocalMaster(registryPath);
  if (!record || isAlive(record.pid)) return;
  logger.info({ registryPath, master: record.pod }, 'removing stale master registry');
  await rm(registryPath, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function distinctFreePorts(count: number, taken: number[]): Promise<number[]> {
  const ports: number[] = [];
  const used = new Set(taken);
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > count * 20) throw new HisteqError('INTERNAL', 'could not find free ports for pods');
    const port = await freePort();
    if (used.has(port)) continue;
    used.add(port);
    ports.push(port);
  }
  return ports;
}
