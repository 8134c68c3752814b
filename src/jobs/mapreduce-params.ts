import { z } from 'zod';
import type { Logger } from '../common/log.js';
import type { StopWatching, ZkSession } from '../coordination/index.js';
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
