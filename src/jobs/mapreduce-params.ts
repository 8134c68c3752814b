import { z } from 'zod';
import type { Logger } from '../common/log.js';
import type { StopWatching, ZkSession } from '../coordination/index.js';
import type { ParamsReporter } from './params-report.js';
import { PARAMS_PATH } from './paths.js';

/** Live tunables in `/config/mapreduce_params`, watched by every pod. */
export interface MapReduceParams {
  /** Strips (tasks) per job phase; absent: one per live pod that takes tasks. */
  tasks_per_job?: number;
}

export const paramsSchema = z
  .object({ tasks_per_job: z.number().int().min(1).max(4096).optional() })
  .loose();

/**
 * Keeps the latest valid params from the watched znode. A malformed write is logged and
 * ignored (the previous value stays), so a typo cannot stop the cluster.
 */
export class ParamsWatcher {
  #current: MapReduceParams = {};
  readonly #stop: StopWatching;

  /** `reporter`: told what is applied after every change (the dashboard's live settings). */
  constructor(session: ZkSession, logger: Logger, reporter?: ParamsReporter) {
    this.#stop = session.watchData(PARAMS_PATH, (snapshot) => {
      if (!snapshot) {
        this.#current = {};
        reporter?.report({}, null);
        return;
      }
      try {
        const parsed = paramsSchema.parse(JSON.parse(snapshot.data.toString('utf8') || '{}'));
        this.#current = parsed;
        reporter?.report(parsed, snapshot.stat.version);
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
