import { HisteqError } from '../common/errors.js';
import { isZkError, type ZkSession } from '../coordination/index.js';
import { paramsSchema, type MapReduceParams } from './mapreduce-params.js';
import { readApplied } from './params-report.js';
import { PARAMS_PATH } from './paths.js';

/** One pod's side of the live settings: what it applies, and whether that is the latest. */
export interface PodSettings {
  pod: string;
  /** Absent while the pod has not reported yet. */
  params?: MapReduceParams;
  version?: number | null;
  converged: boolean;
}

export interface SettingsView {
  path: string;
  params: MapReduceParams;
  /** The znode's version; null when it does not exist (every pod uses its defaults). */
  version: number | null;
  pods: PodSettings[];
}

/** The dashboard's live settings: `/config/mapreduce_params`, read and changed by the master. */
export interface LiveSettings {
  read(): Promise<SettingsView>;
  /** Sets (or with null, clears) the given fields; rejects bad values with BAD_REQUEST. */
  write(changes: Record<string, unknown>): Promise<SettingsView>;
}

const MAX_WRITE_RETRIES = 5;

export function liveSettings(session: ZkSession, livePods: () => string[]): LiveSettings {
  const current = async () => {
    try {
      const { data, stat } = await session.getData(PARAMS_PATH);
      const parsed = paramsSchema.safeParse(JSON.parse(data.toString('utf8') || '{}'));
      return { params: parsed.success ? parsed.data : {}, version: stat.version };
    } catch (err) {
      if (isZkError(err, 'NO_NODE')) return { params: {}, version: null };
      throw err;
    }
  };
  const read = async (): Promise<SettingsView> => {
    const [{ params, version }, applied] = await Promise.all([current(), readApplied(session)]);
    const pods = livePods().map((pod): PodSettings => {
      const report = applied.get(pod);
      if (!report) return { pod, converged: false };
      return {
        pod,
        params: report.params,
        version: report.version,
        converged: report.version === version,
      };
    });
    return { path: PARAMS_PATH, params, version, pods };
  };
  return {
    read,
    async write(changes) {
      for (let attempt = 1; ; attempt++) {
        const { params, version } = await current();
        const next: Record<string, unknown> = { ...params };
        for (const [key, value] of Object.entries(changes)) {
          if (value === null) delete next[key];
          else next[key] = value;
        }
        const parsed = paramsSchema.safeParse(next);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new HisteqError(
            'BAD_REQUEST',
            `The setting ${issue.path.join('.') || 'value'} is not valid: ${issue.message}; tasks_per_job takes a whole number from 1 to 4096, or null for one task per pod.`,
          );
        }
        const data = JSON.stringify(parsed.data);
        try {
          if (version === null) await session.create(PARAMS_PATH, data);
          else await session.setData(PARAMS_PATH, data, version);
          return await read();
        } catch (err) {
          // Changed by someone else meanwhile: apply the change to what is there now.
          if (!isZkError(err, 'BAD_VERSION', 'NODE_EXISTS') || attempt >= MAX_WRITE_RETRIES)
            throw err;
        }
      }
    },
  };
}
