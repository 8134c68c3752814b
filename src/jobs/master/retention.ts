import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { ZkSession } from '../../coordination/index.js';
import type { JobStore } from '../job-store.js';
import { TASK_KINDS, tasksPath, type SharedLayout } from '../paths.js';
import { isFinished, type JobRecord } from '../types.js';
import { removeJobTasks } from './phase-tasks.js';

export interface RetentionOptions {
  session: ZkSession;
  store: JobStore;
  shared: SharedLayout;
  logger: Logger;
  /** RESULT_TTL_HOURS in ms: finished jobs older than this are pruned. */
  ttlMs: number;
  /** A job whose runner still works (e.g. a cleanup after fail-over) is left for the next sweep. */
  busy(id: string): boolean;
  /** Called for every pruned job, so the master's memory forgets it too. */
  pruned(id: string): void;
}

/** Sweeps at least every 10 minutes, and four times per TTL when that is shorter. */
const MAX_INTERVAL_MS = 10 * 60_000;
/**
 * Uploads no record points at (a pod died between storing and recording one) go too, but only
 * after an hour at least: a younger one may be an upload still being probed.
 */
const ORPHAN_MIN_AGE_MS = 60 * 60_000;

/**
 * The master's retention: results (file, previews, stats), uploads and records of jobs that
 * finished (done, failed or cancelled) more than the TTL ago. Runs at activation and then on an unref'd
 * timer until `signal` aborts (leadership lost). Record deletes are fenced by the JobStore, so
 * a deposed master cannot prune. Unfinished jobs are never touched.
 */
export function startRetention(o: RetentionOptions, signal: AbortSignal): void {
  const log = o.logger.child({ component: 'retention' });
  const interval = Math.max(1000, Math.min(o.ttlMs / 4, MAX_INTERVAL_MS));
  let timer: NodeJS.Timeout | null = null;
  const sweep = async () => {
    try {
      await pruneOnce(o, log, signal);
    } catch (err) {
      if (!signal.aborted) log.warn({ err: errorMessage(err) }, 'retention sweep failed');
    }
    if (!signal.aborted) {
      timer = setTimeout(() => void sweep(), interval);
      timer.unref();
    }
  };
  signal.addEventListener('abort', () => timer && clearTimeout(timer), { once: true });
  void sweep();
}

export async function pruneOnce(
  o: RetentionOptions,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  const now = Date.now();
  const records = await o.store.list();
  const keptUploads = new Set<string>();
  const pruned: string[] = [];
  for (const r of records) {
    if (signal.aborted) return;
    if (!isFinished(r.state) || o.busy(r.id) || now - Date.parse(r.updatedAt) < o.ttlMs) {
      keptUploads.add(o.shared.abs(r.upload));
      continue;
    }
    const current = await o.store.read(r.id);
    if (!current || current.record.updatedAt !== r.updatedAt) continue;
    await removeJobTasks(
      o.session,
      TASK_KINDS.map((kind) => tasksPath(r.id, kind)),
    );
    // The record goes first: if this master is deposed now, nothing is half-pruned that the
    // next one cannot find again (files without a record are swept below and by age).
    await o.store.removeFinished(r.id, current.version);
    await removeJobFiles(o.shared, r);
    o.pruned(r.id);
    pruned.push(r.id);
  }
  const orphans = await pruneOrphanUploads(o, keptUploads, now);
  if (pruned.length || orphans) {
    log.info({ jobs: pruned, orphanUploads: orphans, ttlMs: o.ttlMs }, 'pruned old jobs');
  }
}

/** Everything a job put on the shared volume: its upload, work folder, result and previews. */
export async function removeJobFiles(shared: SharedLayout, job: JobRecord): Promise<void> {
  await rm(shared.abs(job.upload), { force: true });
  await rm(shared.abs(shared.workRel(job.id)), { recursive: true, force: true });
  await removeResults(shared.results, job.id);
}

/** `<id>.<ext>`, `<id>.in.png`, `<id>.out.png`, `<id>.stats.json` and leftovers. */
export async function removeResults(dir: string, id: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(`${id}.`))) {
    await rm(join(dir, name), { force: true });
  }
}

async function pruneOrphanUploads(
  o: RetentionOptions,
  kept: Set<string>,
  now: number,
): Promise<number> {
  const minAge = Math.max(o.ttlMs, ORPHAN_MIN_AGE_MS);
  let count = 0;
  for (const name of await readdir(o.shared.uploads).catch(() => [] as string[])) {
    const path = join(o.shared.uploads, name);
    if (kept.has(path)) continue;
    const info = await stat(path).catch(() => null);
    if (info?.isFile() && now - info.mtimeMs >= minAge) {
      await rm(path, { force: true });
      count++;
    }
  }
  return count;
}
