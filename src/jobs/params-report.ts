import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { isZkError, type ZkSession } from '../coordination/index.js';
import type { MapReduceParams } from './mapreduce-params.js';

/** Where each pod says which version of `/config/mapreduce_params` it applies (ephemeral). */
export const APPLIED_PATH = '/config/applied';

/** One pod's report: the params it uses now and the znode version they came from. */
export interface AppliedParams {
  pod: string;
  params: MapReduceParams;
  /** The znode version applied; null while the node does not exist (the defaults). */
  version: number | null;
  at: string;
}

/**
 * Tells the cluster what this pod applied, so the dashboard can show each pod's converged
 * value. Ephemeral: a pod that dies stops reporting. Reported again whenever the session
 * (re)connects, since an expired session takes its ephemeral nodes with it.
 */
export class ParamsReporter {
  readonly #session: ZkSession;
  readonly #pod: string;
  readonly #logger: Logger;
  #last: AppliedParams | null = null;

  constructor(session: ZkSession, pod: string, logger: Logger) {
    this.#session = session;
    this.#pod = pod;
    this.#logger = logger;
    session.on('state', (state) => {
      if (state === 'connected' && this.#last) void this.#write(this.#last);
    });
  }

  report(params: MapReduceParams, version: number | null): void {
    this.#last = { pod: this.#pod, params, version, at: new Date().toISOString() };
    void this.#write(this.#last);
  }

  async #write(report: AppliedParams): Promise<void> {
    const path = `${APPLIED_PATH}/${this.#pod}`;
    const data = JSON.stringify(report);
    try {
      await this.#session.ensurePath(APPLIED_PATH);
      await this.#session.setData(path, data).catch(async (err: unknown) => {
        if (!isZkError(err, 'NO_NODE')) throw err;
        await this.#session.create(path, data, 'ephemeral');
      });
    } catch (err) {
      // Only the dashboard's view suffers; the next change or reconnect reports again.
      this.#logger.debug({ err: errorMessage(err) }, 'could not report the applied params');
    }
  }
}

/** Every live pod's report, by pod. */
export async function readApplied(session: ZkSession): Promise<Map<string, AppliedParams>> {
  const reports = new Map<string, AppliedParams>();
  const pods = await session.getChildren(APPLIED_PATH).catch(() => [] as string[]);
  await Promise.all(
    pods.map(async (pod) => {
      try {
        const { data } = await session.getData(`${APPLIED_PATH}/${pod}`);
        reports.set(pod, JSON.parse(data.toString('utf8')) as AppliedParams);
      } catch {
        // Gone meanwhile (the pod stopped), or not ours to read: left out.
      }
    }),
  );
  return reports;
}
