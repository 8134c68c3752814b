import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../common/log.js';
import { LocalCluster } from './local-cluster.js';
import { ZookeeperServer } from './zookeeper-server.js';

export interface ScratchClusterOptions {
  pods: number;
  /** Pod environment on top of the defaults (4 s session timeout, one pool thread each). */
  env?: Record<string, string>;
  /** Where pod lines go (null: only to the per-pod log files). */
  console?: NodeJS.WritableStream | null;
  /** The launcher's own log level (default warn). */
  logLevel?: string;
  /** Bound on each pod's graceful stop (LocalCluster's default otherwise). */
  stopTimeoutMs?: number;
}

export interface ScratchCluster {
  dir: string;
  zk: ZookeeperServer;
  cluster: LocalCluster;
  /** Stops pods and ZooKeeper; removes the folder unless `keep`. */
  close(keep?: boolean): Promise<void>;
}

/**
 * A throw-away local cluster in a temporary folder, with a ZooKeeper server the caller
 * controls (pause, kill, restart): what tests, the bench and the chaos drills run against.
 * Resolves once a master serves; on a failure to start nothing is left running.
 */
export async function startScratchCluster(options: ScratchClusterOptions): Promise<ScratchCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'histeq-cluster-'));
  const zk = await ZookeeperServer.start({ dataDir: join(dir, 'zk') });
  let cluster: LocalCluster | null = null;
  try {
    cluster = await LocalCluster.start({
      pods: options.pods,
      port: 0,
      zkHosts: zk.connectionString,
      sharedDir: join(dir, 'shared'),
      logDir: join(dir, 'logs'),
      env: {
        ...process.env,
        ZK_SESSION_TIMEOUT_MS: '4000',
        POOL_THREADS: '1',
        LOG_LEVEL: 'info',
        ...options.env,
      },
      console: options.console ?? null,
      ...(options.stopTimeoutMs ? { stopTimeoutMs: options.stopTimeoutMs } : {}),
      logger: createLogger({ pod: 'local', level: options.logLevel ?? 'warn', format: 'pretty' }),
    });
    await cluster.waitForMaster(30_000);
  } catch (err) {
    await cluster?.stop();
    await zk.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const started = cluster;
  return {
    dir,
    zk,
    cluster: started,
    async close(keep = false) {
      await started.stop();
      await zk.stop();
      if (!keep) await rm(dir, { recursive: true, force: true });
    },
  };
}
