import { z } from 'zod';
import type { Logger } from '../common/log.js';
import { isZkError, type StopWatching, type ZkSession } from '../coordination/index.js';
import { PARAMS_PATH } from './paths.js';

/** Live tunables in `/config/mapreduce_params`, watched by every pod. */
export interface MapReduceParams {
  /** Strips (tasks) per job phase; absent: one per live pod that takes tasks. */
  tasks_per_job?: number;
}

const schema = z.object({ tasks_per_job: z.number().int().min(1).max(4096).optional() }).loose();

/**
 * Keeps the latest valid params from the watched znode. A malformed write is logged and
 * ignored (the previous value stays), so a typo cannot stop the cluster.
 */
export class ParamsWatcher {
  #current: MapReduceParams = {};
  readonly #stop: StopWatching;

  constructor(session: ZkSession, logger: Logger) {
    this.#stop = session.watchData(PARAMS_PATH, (snapshot) => {
      if (!snapshot) {
        this.#current = {};
        return;
      }
      try {
        const parsed = schema.parse(JSON.parse(snapshot.data.toString('utf8') || '{}'));
        this.#current = parsed;
        logger.info({ params: parsed, version: snapshot.stat.version }, 'mapreduce params');
      } catch (err) {
        logger.warn({ err: String(err) }, `ignoring malformed ${PARAMS_PATH}`);
      }
    });
  }

  get current(): MapReduceParams {
    return this.#current;
  }

  close(): void {
    this.#stop();
  }
}

/**
 * The stored `tasks_per_job` and the znode's version (null, null: never written). A value the
 * pods would ignore as malformed reads as unset.
 */
export async function readTasksPerJob(
  session: ZkSession,
): Promise<{ tasksPerJob: number | null; version: number | null }> {
  try {
    const { data, stat } = await session.getData(PARAMS_PATH);
    const parsed = schema.safeParse(JSON.parse(data.toString('utf8') || '{}'));
    return {
      tasksPerJob: parsed.success ? (parsed.data.tasks_per_job ?? null) : null,
      version: stat.version,
    };
  } catch (err) {
    if (isZkError(err, 'NO_NODE')) return { tasksPerJob: null, version: null };
    if (err instanceof SyntaxError) return { tasksPerJob: null, version: null };
    throw err;
  }
}

/**
 * Sets (or, with null, removes) `tasks_per_job`, keeping any other keys; a compare-and-set on
 * the znode's version, retried a few times, so two writers never lose each other's keys.
 */
export async function writeTasksPerJob(session: ZkSession, value: number | null): Promise<void> {
  await session.ensurePath(PARAMS_PATH);
  for (let attempt = 1; ; attempt++) {
    const { data, stat } = await session.getData(PARAMS_PATH);
    let current: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(data.toString('utf8') || '{}');
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        current = parsed as Record<string, unknown>;
      }
    } catch {
      // Malformed (the pods ignore it too): replaced by a valid document.
    }
    const next = { ...current };
    if (value === null) delete next.tasks_per_job;
    else next.tasks_per_job = value;
    try {
      await session.setData(PARAMS_PATH, JSON.stringify(next), stat.version);
      return;
    } catch (err) {
      if (!isZkError(err, 'BAD_VERSION') || attempt >= 5) throw err;
    }
  }
}
