import { randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { io } from 'socket.io-client';
import { createLogger } from '../src/common/log.js';
import { ZkSession } from '../src/coordination/index.js';
import { PARAMS_PATH } from '../src/jobs/paths.js';
import type { JobStatusEvent, JobView } from '../src/jobs/types.js';
import { startScratchCluster } from '../src/local/scratch-cluster.js';
import { EVENT_LOOP_RESOLUTION_MS } from '../src/pod/metrics.js';
import type { ClusterSnapshot } from '../src/web/deps.js';
import { metricSum, metricValue } from './prometheus.js';
import { upload } from './uploader.js';
import { summarize, type Summary } from './stats.js';

export interface ClusterFigures {
  pods: number;
  image: string;
  /** Tasks per phase (`tasks_per_job`; default one per pod). */
  tasks: number;
  seconds: Summary;
  phaseMs: Record<string, Summary>;
  /**
   * Worst event-loop delay p99 seen during a job, on the master and on any worker (ms): how
   * late a timer fired, i.e. the pod's p99 tick interval minus the sampling interval.
   */
  loopP99Ms: { master: number; worker: number };
  peakRssMb: { master: number; worker: number };
  zkOpsPerJob: number;
  /** ZooKeeper sessions that expired on any pod during the runs (must be 0). */
  sessionsLost: number;
}

/** A running local cluster for the bench (ZooKeeper + pod processes + front door). */
export interface BenchCluster {
  url: string;
  pods: number;
  /** SHARED_DIR of the pods (results are under results/). */
  sharedDir: string;
  /** The ZooKeeper server's process id (for its CPU time). */
  zkPid: number | undefined;
  /** The serving master pod's own URL (as the front door's registry names it). */
  masterUrl(): Promise<string>;
  close(): Promise<void>;
}

/** Starts `pods` pods with the machine's cores split between their pools, all joined. */
export async function startBenchCluster(
  pods: number,
  tasksPerJob?: number,
  env: Record<string, string> = {},
): Promise<BenchCluster> {
  const threads = Math.max(1, Math.floor(availableParallelism() / pods));
  const scratch = await startScratchCluster({
    pods,
    // The bench uploads far more than 30 jobs a minute from one address: no rate limit.
    env: {
      POOL_THREADS: String(threads),
      LOG_LEVEL: 'warn',
      ZK_SESSION_TIMEOUT_MS: '6000',
      UPLOAD_RATE_PER_MINUTE: '0',
      ...env,
    },
  });
  try {
    if (tasksPerJob !== undefined) await setTasksPerJob(scratch.zk.connectionString, tasksPerJob);
    await waitForPods(scratch.cluster.frontDoorUrl, pods);
  } catch (err) {
    await scratch.close();
    throw err;
  }
  return {
    url: scratch.cluster.frontDoorUrl,
    pods,
    sharedDir: join(scratch.dir, 'shared'),
    zkPid: scratch.zk.pid,
    masterUrl: async () => (await scratch.cluster.waitForMaster(10_000)).url,
    close: () => scratch.close(),
  };
}

/**
 * Upload → result ready through a real local cluster (ZooKeeper + pod processes + front
 * door), timed from the start of the upload to the final job_status event.
 */
export async function benchCluster(
  pods: number,
  imagePath: string,
  runs: number,
  tasksPerJob?: number,
  fields?: Record<string, string>,
): Promise<ClusterFigures> {
  const cluster = await startBenchCluster(pods, tasksPerJob);
  try {
    const { url } = cluster;
    const seconds: number[] = [];
    const phases: Record<string, number[]> = {};
    let loopMaster = 0;
    let loopWorker = 0;
    let zkOps = 0;
    let sessionsLost = 0;
    for (let run = 0; run < runs; run++) {
      const before = await scrapeAll(url); // also resets the event-loop histograms
      const { job, seconds: took } = await uploadAndWait(url, imagePath, fields);
      seconds.push(took);
      const after = await scrapeAll(url);
      for (const [phase, ms] of Object.entries(job.phaseMs)) (phases[phase] ??= []).push(ms);
      // Part of stitching: the master's check of every strip before the job is called done.
      if (job.checkMs !== undefined) (phases.check ??= []).push(job.checkMs);
      for (const [pod, text] of after.metrics) {
        const tick = metricValue(text, 'histeq_process_nodejs_eventloop_lag_p99_seconds') ?? 0;
        const p99 = Math.max(0, tick * 1000 - EVENT_LOOP_RESOLUTION_MS);
        if (pod === after.master) loopMaster = Math.max(loopMaster, p99);
        else loopWorker = Math.max(loopWorker, p99);
        const delta = (name: string) =>
          metricSum(text, name) - metricSum(before.metrics.get(pod) ?? '', name);
        zkOps += delta('histeq_zookeeper_operations_total');
        sessionsLost += delta('histeq_zookeeper_sessions_expired_total');
      }
    }
    const final = await scrapeAll(url);
    let rssMaster = 0;
    let rssWorker = 0;
    for (const [pod, text] of final.metrics) {
      const mb = (metricValue(text, 'histeq_peak_rss_bytes') ?? 0) / 2 ** 20;
      if (pod === final.master) rssMaster = mb;
      else rssWorker = Math.max(rssWorker, mb);
    }
    return {
      pods,
      image: basename(imagePath),
      tasks: tasksPerJob ?? pods,
      seconds: summarize(seconds),
      phaseMs: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, summarize(v)])),
      loopP99Ms: { master: loopMaster, worker: loopWorker },
      peakRssMb: { master: rssMaster, worker: rssWorker },
      zkOpsPerJob: Math.round(zkOps / runs),
      sessionsLost,
    };
  } finally {
    await cluster.close();
  }
}

/** Writes `/config/mapreduce_params` as an operator would; the pods watch it. */
async function setTasksPerJob(zkHosts: string, tasks: number): Promise<void> {
  const logger = createLogger({ pod: 'bench', level: 'warn' });
  const session = await ZkSession.create({
    connectionString: zkHosts,
    sessionTimeoutMs: 6000,
    logger,
  });
  try {
    await session.ensurePath(PARAMS_PATH);
    await session.setData(PARAMS_PATH, JSON.stringify({ tasks_per_job: tasks }));
  } finally {
    await session.close();
  }
  // The pods apply it on their watch; give the notification a moment to land.
  await new Promise((r) => setTimeout(r, 300));
}

async function waitForPods(url: string, pods: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const snap = (await (await fetch(`${url}/api/cluster`)).json()) as ClusterSnapshot;
    if (snap.pods.length === pods) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${pods} pods did not join in time`);
}

export async function scrapeAll(
  url: string,
): Promise<{ master: string | null; metrics: Map<string, string> }> {
  const snap = (await (await fetch(`${url}/api/cluster`)).json()) as ClusterSnapshot;
  const metrics = new Map<string, string>();
  // One pod at a time: scraping all at once wakes every process together on few cores, and the
  // stall that causes would be counted in the next window as if the job had caused it.
  for (const p of snap.pods) metrics.set(p.pod, await (await fetch(`${p.url}/metrics`)).text());
  return { master: snap.master, metrics };
}

/**
 * Uploads and resolves on the final job_status event (no polling), with the seconds from the
 * start of the upload to that event; the Socket.IO connection is made before, as a dashboard
 * that is open already has it.
 */
export async function uploadAndWait(
  url: string,
  path: string,
  fields?: Record<string, string>,
  timeoutSeconds = 120,
): Promise<{ job: JobView; seconds: number }> {
  await upload(undefined, path); // read once, outside the timing
  return submitAndWait(url, timeoutSeconds, () => upload(url, path, fields));
}

/**
 * POST /api/jobs {"path"} of a file hard-linked into the cluster's inbox (the way to submit a
 * gigapixel file without sending its bytes through HTTP), resolving like uploadAndWait.
 */
export async function inboxSubmitAndWait(
  cluster: BenchCluster,
  path: string,
  timeoutSeconds = 120,
): Promise<{ job: JobView; seconds: number }> {
  const inbox = join(cluster.sharedDir, 'inbox');
  const name = `${randomUUID()}-${basename(path)}`;
  await mkdir(inbox, { recursive: true });
  await link(path, join(inbox, name)).catch(() => copyFile(path, join(inbox, name)));
  try {
    return await submitAndWait(cluster.url, timeoutSeconds, async () => {
      const res = await fetch(`${cluster.url}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ path: name }),
      });
      return { status: res.status, body: await res.text() };
    });
  } finally {
    await rm(join(inbox, name), { force: true });
  }
}

async function submitAndWait(
  url: string,
  timeoutSeconds: number,
  submit: () => Promise<{ status: number; body: string }>,
): Promise<{ job: JobView; seconds: number }> {
  const socket = io(url, { transports: ['websocket'] });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });

    const finished = new Map<string, JobStatusEvent>();
    let wanted = '';
    let wake: () => void = () => {};
    socket.on('job_status', (s: JobStatusEvent) => {
      if (s.state === 'done' || s.state === 'failed') finished.set(s.id, s);
      if (s.id === wanted && finished.has(wanted)) wake();
    });
    const started = performance.now();
    const res = await submit();
    const body = JSON.parse(res.body) as { job_id?: string; error?: string };
    if (!body.job_id) throw new Error(`submission refused: ${body.error}`);
    wanted = body.job_id;
    if (!finished.has(wanted)) {
      await new Promise<void>((resolve, reject) => {
        wake = resolve;
        setTimeout(
          () => reject(new Error(`job did not finish in ${timeoutSeconds} s`)),
          timeoutSeconds * 1000,
        ).unref();
      });
    }
    const seconds = (performance.now() - started) / 1000;
    if (finished.get(wanted)?.state !== 'done')
      throw new Error(`job failed: ${finished.get(wanted)?.error}`);
    const job = (await (await fetch(`${url}/api/jobs/${wanted}`)).json()) as JobView;
    return { job, seconds };
  } finally {
    socket.close();
  }
}
