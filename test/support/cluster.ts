import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/common/log.js';
import { LocalCluster } from '../../src/local/local-cluster.js';
import { ZookeeperServer } from '../../src/local/zookeeper-server.js';
import type { JobView } from '../../src/jobs/types.js';

export interface TestCluster {
  cluster: LocalCluster;
  zk: ZookeeperServer;
  /** The front door (local master-service). */
  url: string;
  dir: string;
  close(): Promise<void>;
}

/**
 * A real local cluster for a test: a ZooKeeper server the test controls, N pod processes and
 * the front door, in a temporary folder removed on close.
 */
export async function startTestCluster(
  options: { pods?: number; env?: Record<string, string> } = {},
): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'histeq-cluster-'));
  const zk = await ZookeeperServer.start({ dataDir: join(dir, 'zk') });
  let cluster: LocalCluster;
  try {
    cluster = await LocalCluster.start({
      pods: options.pods ?? 3,
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
      console: process.env.HISTEQ_TEST_VERBOSE ? process.stderr : null,
      logger: createLogger({
        pod: 'local',
        level: process.env.HISTEQ_TEST_VERBOSE ? 'info' : 'warn',
      }),
    });
    await cluster.waitForMaster(30_000);
  } catch (err) {
    await zk.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    cluster,
    zk,
    url: cluster.frontDoorUrl,
    dir,
    async close() {
      await cluster.stop();
      await zk.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function uploadFile(
  url: string,
  bytes: Uint8Array,
  name: string,
  fields: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('image', new Blob([bytes]), name);
  const res = await fetch(`${url}/upload`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Waits (bounded) for a job to end; returns its final view. */
export async function waitForJob(url: string, id: string, timeoutMs = 60_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  let last: JobView | null = null;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/api/jobs/${id}`).catch(() => null);
    if (res?.ok) {
      last = (await res.json()) as JobView;
      if (last.state === 'done' || last.state === 'failed') return last;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not finish in ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

/** Bounded wait for a condition checked every `everyMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
