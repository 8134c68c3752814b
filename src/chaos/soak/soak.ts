import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../../common/errors.js';
import { seededRandom } from '../../common/random.js';
import type { JobView } from '../../jobs/types.js';
import type { Drill } from '../harness.js';
import { leftovers } from '../probes.js';
import { resultSamples, type SoakJob } from './job-mix.js';

export interface SoakOptions {
  seconds: number;
  seed: number;
  /** Jobs in flight at once (default 3). */
  concurrency?: number;
  /** A kill -9 of a random pod (master included) every this many ms, drawn uniformly. */
  killEveryMs?: [number, number];
  /** Restart ZooKeeper once, mid-run (default true). */
  zkRestart?: boolean;
  /** An accepted job must end within this long (default 180 s). */
  jobTimeoutMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface SoakReport {
  seed: number;
  submitted: number;
  accepted: number;
  exact: number;
  /** Uploads refused with a clear error (a master died under them, or none was serving). */
  refused: number;
  kills: number;
  zkRestarts: number;
  /** Each broken guarantee, in one sentence. */
  problems: string[];
  slowestJobMs: number;
}

/**
 * The randomized soak: jobs drawn at random from `mix` (several in flight), while a seeded
 * schedule kills random pods and restarts ZooKeeper once. Every accepted job must end done with
 * exactly the reference's samples, within its bound; every refused upload must get an answer
 * (no hang); nothing may be left behind. The same seed replays the same schedule of jobs and
 * faults (what they hit still depends on timing).
 */
export async function runSoak(drill: Drill, mix: SoakJob[], o: SoakOptions): Promise<SoakReport> {
  const random = seededRandom(o.seed);
  const log = o.log ?? (() => {});
  const report: SoakReport = {
    seed: o.seed,
    submitted: 0,
    accepted: 0,
    exact: 0,
    refused: 0,
    kills: 0,
    zkRestarts: 0,
    problems: [],
    slowestJobMs: 0,
  };
  const started = Date.now();
  const endAt = started + o.seconds * 1000;
  const [killMin, killMax] = o.killEveryMs ?? [6_000, 12_000];
  const zkAt =
    o.zkRestart === false ? Infinity : started + (0.3 + 0.4 * random()) * o.seconds * 1000;
  const accepted: string[] = [];

  const faults = (async () => {
    let nextKill = started + killMin + random() * (killMax - killMin);
    while (Date.now() < endAt) {
      await sleep(Math.max(0, Math.min(nextKill, zkAt, endAt) - Date.now()));
      if (Date.now() >= endAt) break;
      if (Date.now() >= zkAt && report.zkRestarts === 0) {
        log(`ZooKeeper restart`);
        await drill.zk.restart();
        report.zkRestarts++;
      }
      if (Date.now() >= nextKill) {
        const pods = drill.cluster.pods;
        const victim = pods[Math.floor(random() * pods.length)]!;
        log(`kill -9 ${victim.name}`);
        drill.cluster.killPod(victim.name, 'SIGKILL');
        report.kills++;
        nextKill = Date.now() + killMin + random() * (killMax - killMin);
      }
    }
  })();

  const client = async (lane: number) => {
    while (Date.now() < endAt) {
      const job = mix[Math.floor(random() * mix.length)]!;
      report.submitted++;
      const outcome = await submit(drill.url, job);
      if ('problem' in outcome) {
        report.problems.push(`lane ${lane}, ${job.label}: ${outcome.problem}`);
        continue;
      }
      if ('refused' in outcome) {
        report.refused++;
        log(`refused ${job.label}: ${outcome.refused}`);
        await sleep(500);
        continue;
      }
      report.accepted++;
      accepted.push(outcome.id);
      const problem = await finish(drill, job, outcome.id, o.jobTimeoutMs ?? 180_000, report);
      if (problem) report.problems.push(`${job.label} (job ${outcome.id}): ${problem}`);
      else report.exact++;
    }
  };
  await Promise.all([faults, ...Array.from({ length: o.concurrency ?? 3 }, (_, i) => client(i))]);

  for (const id of accepted) {
    const left = await cleanOf(drill, id);
    if (left.length > 0) report.problems.push(`job ${id} left ${left.join(', ')}`);
  }
  return report;
}

type SubmitOutcome = { id: string } | { refused: string } | { problem: string };

/** One upload through the front door, bounded: an answer of any kind, never a hang. */
async function submit(url: string, job: SoakJob): Promise<SubmitOutcome> {
  const form = new FormData();
  for (const [k, v] of Object.entries(job.fields)) form.append(k, v);
  form.append('image', new Blob([job.bytes]), job.name);
  let res: Response;
  try {
    res = await fetch(`${url}/upload`, {
      method: 'POST',
      body: form,
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    const reason = errorMessage(err);
    if (/timeout|aborted/i.test(reason)) return { problem: 'the upload got no answer in 60 s' };
    // The connection went down under a dying master: the client knows at once.
    return { refused: `connection lost (${reason})` };
  }
  let body: { job_id?: string; error?: string };
  try {
    body = (await res.json()) as typeof body;
  } catch (err) {
    const reason = errorMessage(err);
    if (/timeout|aborted/i.test(reason))
      return { problem: 'the upload answer did not arrive in 60 s' };
    body = {};
  }
  if (res.status === 200 && body.job_id) return { id: body.job_id };
  if (res.status >= 500 && body.error) return { refused: `${res.status} ${body.error}` };
  return { problem: `upload answered ${res.status} ${JSON.stringify(body)}` };
}

/** Follows an accepted job to its end and checks its result; a sentence if anything is wrong. */
async function finish(
  drill: Drill,
  job: SoakJob,
  id: string,
  timeoutMs: number,
  report: SoakReport,
): Promise<string | null> {
  const since = Date.now();
  const deadline = since + timeoutMs;
  let view: JobView | null = null;
  while (Date.now() < deadline) {
    view = await getJson<JobView>(`${drill.url}/api/jobs/${id}`);
    if (view?.state === 'done' || view?.state === 'failed') break;
    await sleep(200);
  }
  report.slowestJobMs = Math.max(report.slowestJobMs, Date.now() - since);
  if (!view || (view.state !== 'done' && view.state !== 'failed')) {
    return `did not end within ${timeoutMs / 1000} s (last seen: ${view?.state ?? 'nothing'})`;
  }
  if (view.state === 'failed') return `failed: ${view.error}`;
  let bytes: Buffer | null = null;
  while (!bytes && Date.now() < deadline) {
    const got = await bounded(`${drill.url}${view.url}`, 30_000);
    if ('timeout' in got) return `its download got no answer in 30 s`;
    if (got.status === 200) bytes = got.body;
    else await sleep(200);
  }
  if (!bytes) return 'its result could not be downloaded';
  const samples = await resultSamples(bytes, job);
  if (samples.length !== job.expected.length)
    return `result has ${samples.length} bytes of samples`;
  for (let i = 0; i < samples.length; i++) {
    if (samples[i] !== job.expected[i]) return `result differs from the reference at byte ${i}`;
  }
  return null;
}

async function getJson<T>(url: string): Promise<T | null> {
  const got = await bounded(url, 10_000);
  if ('timeout' in got || got.status !== 200) return null;
  return JSON.parse(got.body.toString('utf8')) as T;
}

type Bounded = { status: number; body: Buffer } | { timeout: true } | { status: 0; body: Buffer };

/** A GET whose whole answer (headers and body) must arrive within `ms`. */
async function bounded(url: string, ms: number): Promise<Bounded> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(ms) });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  } catch (err) {
    if (/timeout|aborted/i.test(errorMessage(err))) return { timeout: true };
    return { status: 0, body: Buffer.alloc(0) }; // connection lost: the caller retries
  }
}

/** Bounded wait for a finished job's cleanup (it follows the final write closely). */
async function cleanOf(drill: Drill, id: string): Promise<string[]> {
  let left: string[] = [];
  for (let i = 0; i < 100; i++) {
    left = await leftovers(drill.admin, drill.sharedDir, id);
    if (left.length === 0) return left;
    await sleep(100);
  }
  return left;
}
