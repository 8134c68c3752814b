import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readLocalMaster } from '../cluster/local-labeler.js';
import { unlessMissing, type ZkSession } from '../coordination/index.js';
import { jobPath, tasksPath, taskPath, type TaskKind } from '../jobs/paths.js';
import type { JobRecord, JobState } from '../jobs/types.js';

/**
 * What the fault drills observe, from the outside only: ZooKeeper (read with a session of
 * their own), shared storage, the local registry, the front door and the pods' log files.
 * Every wait is bounded and throws a sentence naming what it waited for.
 */

export class DrillFailure extends Error {
  override readonly name = 'DrillFailure';
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new DrillFailure(message);
}

/** Polls `probe` until it returns a truthy value; bounded. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() >= deadline) throw new DrillFailure(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(everyMs);
  }
}

export async function upload(url: string, bytes: Uint8Array, name: string): Promise<string> {
  const form = new FormData();
  form.append('image', new Blob([bytes]), name);
  const res = await fetch(`${url}/upload`, { method: 'POST', body: form });
  const body = (await res.json()) as { job_id?: string; error?: string };
  check(res.ok && body.job_id, `upload refused: ${res.status} ${body.error ?? ''}`);
  return body.job_id;
}

export async function readJob(admin: ZkSession, id: string): Promise<JobRecord | null> {
  const found = await unlessMissing(admin.getData(jobPath(id)), null);
  return found && (JSON.parse(found.data.toString('utf8')) as JobRecord);
}

export function waitForState(
  admin: ZkSession,
  id: string,
  states: JobState[],
  timeoutMs: number,
): Promise<JobRecord> {
  return until(
    `job ${id} to reach ${states.join('/')}`,
    async () => {
      const record = await readJob(admin, id).catch(() => null);
      return record && states.includes(record.state) ? record : null;
    },
    timeoutMs,
  );
}

/** Which pod holds each held lock of a job phase. */
export async function lockHolders(
  admin: ZkSession,
  id: string,
  kind: TaskKind,
): Promise<{ index: number; pod: string }[]> {
  const names = await unlessMissing(admin.getChildren(tasksPath(id, kind)), []);
  const held = await Promise.all(
    names.map(async (name) => {
      const index = Number(name.slice('task_'.length));
      try {
        const { data } = await admin.getData(`${taskPath(id, kind, index)}/lock`);
        return [{ index, pod: (JSON.parse(data.toString('utf8')) as { pod: string }).pod }];
      } catch {
        return [];
      }
    }),
  );
  return held.flat();
}

/** The pod the local registry names, if the front door serves the API through it. */
export async function servingMaster(registryPath: string, url: string): Promise<string | null> {
  const record = await readLocalMaster(registryPath);
  if (!record) return null;
  try {
    const res = await fetch(`${url}/api/cluster`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { master?: string | null };
    return res.ok && body.master === record.pod ? record.pod : null;
  } catch {
    return null;
  }
}

/** Ms from `since` until a master other than `old` serves through the front door. */
export async function waitForNewMaster(
  registryPath: string,
  url: string,
  old: string,
  since: number,
  timeoutMs: number,
): Promise<{ pod: string; ms: number }> {
  const pod = await until(
    `a master other than ${old} serving through the front door`,
    async () => {
      const master = await servingMaster(registryPath, url);
      return master && master !== old ? master : null;
    },
    timeoutMs,
    25,
  );
  return { pod, ms: Date.now() - since };
}

/** Ghost state a finished job must not leave: task znodes, locks, work files. */
export async function leftovers(
  admin: ZkSession,
  sharedDir: string,
  id: string,
): Promise<string[]> {
  const ghosts: string[] = [];
  for (const child of await admin.getChildren(jobPath(id)).catch(() => [])) {
    ghosts.push(`znode ${jobPath(id)}/${child}`);
  }
  const work = await readdir(join(sharedDir, 'work')).catch(() => [] as string[]);
  ghosts.push(...work.filter((name) => name.startsWith(id)).map((n) => `file work/${n}`));
  const results = await readdir(join(sharedDir, 'results')).catch(() => [] as string[]);
  ghosts.push(...results.filter((n) => n.endsWith('.tmp')).map((n) => `file results/${n}`));
  return ghosts;
}

export interface LogLine {
  time: string;
  pod: string;
  msg: string;
  [key: string]: unknown;
}

/** The JSON lines of a pod's log file (all its incarnations), newest last. */
export async function podLog(logDir: string, pod: string): Promise<LogLine[]> {
  const text = await readFile(join(logDir, `${pod}.log`), 'utf8').catch(() => '');
  return text.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
