import { isFinished, type JobView } from '../../src/jobs/types.js';
import type { LocalCluster } from '../../src/local/local-cluster.js';
import { startScratchCluster } from '../../src/local/scratch-cluster.js';
import type { ZookeeperServer } from '../../src/local/zookeeper-server.js';

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
  const verbose = Boolean(process.env.HISTEQ_TEST_VERBOSE);
  const scratch = await startScratchCluster({
    pods: options.pods ?? 3,
    // Tests upload in bursts (the fuzz test sends 200); the limit has its own test.
    env: { UPLOAD_RATE_PER_MINUTE: '0', ...options.env },
    console: verbose ? process.stderr : null,
    logLevel: verbose ? 'info' : 'warn',
  });
  return {
    cluster: scratch.cluster,
    zk: scratch.zk,
    url: scratch.cluster.frontDoorUrl,
    dir: scratch.dir,
    close: () => scratch.close(),
  };
}

export async function uploadFile(
  url: string,
  bytes: Uint8Array,
  name: string,
  fields: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('image', new Blob([bytes]), name);
  const res = await fetch(`${url}/upload`, { method: 'POST', body: form, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Waits (bounded) for a job to end; returns its final view. */
export async function waitForJob(
  url: string,
  id: string,
  timeoutMs = 60_000,
  headers: Record<string, string> = {},
): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  let last: JobView | null = null;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/api/jobs/${id}`, { headers }).catch(() => null);
    if (res?.ok) {
      last = (await res.json()) as JobView;
      if (isFinished(last.state)) return last;
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

/** A job's result fetched through the front door, as 8-bit grey samples. */
export async function downloadGrey(
  url: string,
  resultPath: string,
  headers: Record<string, string> = {},
): Promise<Uint8Array> {
  const res = await fetch(`${url}${resultPath}`, { headers });
  if (!res.ok) throw new Error(`GET ${resultPath} answered ${res.status}`);
  const { default: sharp } = await import('sharp');
  const grey = await sharp(Buffer.from(await res.arrayBuffer()))
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  return new Uint8Array(grey);
}
