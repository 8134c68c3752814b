import { performance } from 'node:perf_hooks';
import { HisteqError } from '../common/errors.js';
import { isZkError, unlessMissing, type ZkSession } from '../coordination/index.js';
import type { MapReduceParams } from '../jobs/mapreduce-params.js';
import { PARAMS_PATH } from '../jobs/paths.js';
import {
  convergence,
  narrateWatcher,
  startWatcher,
  watcherResult,
  type EventualWatcherResult,
  type Watcher,
} from './config-cache.js';
import { since } from './narration.js';
import { checkParams } from './params-check.js';
import type { DemoReport } from './result.js';
import type { DemoRuntime } from './runtime.js';

export interface EventualOptions {
  /** Watchers, each with its own session and cache; default 3. */
  watchers: number;
  /** Rapid writes, pipelined on one session; default 1. */
  writes: number;
  /** tasks_per_job of the first write (then +1 per write); default: the current value + 1. */
  tasksPerJob?: number;
  /** How long every cache may take to converge before the guarantee counts as broken. */
  timeoutMs: number;
}

export const EVENTUAL_DEFAULTS = { watchers: 3, writes: 1, timeoutMs: 5_000 } as const;

export type { EventualWatcherResult };

export interface EventualReport extends DemoReport {
  demo: 'eventual';
  path: string;
  previous: { existed: boolean; version: number | null; data: string | null };
  writes: { index: number; params: MapReduceParams; version: number; ackMs: number }[];
  final: { version: number; params: MapReduceParams };
  watchers: EventualWatcherResult[];
  /** What happened to the node at the end. */
  restored: 'previous' | 'deleted' | 'left-alone' | 'unchanged';
}

const GUARANTEE =
  'Every watcher cache converges to the last write (it may skip intermediate versions, never go back).';

/** `histeq demo eventual`: one writer, K watching caches, the real tunables. */
export async function runEventual(
  rt: DemoRuntime,
  options: EventualOptions,
): Promise<EventualReport> {
  const say = rt.narrator;
  say.phase(`eventual consistency: 1 writer, ${options.watchers} watchers on ${PARAMS_PATH}`);
  const writer = await rt.openSession('writer');
  const previous = await readPrevious(writer);
  say.say(
    'writer',
    previous.existed
      ? `current config (version ${previous.version}): ${previous.data}`
      : `${PARAMS_PATH} does not exist yet (pods use their defaults)`,
  );
  const plan = planWrites(previous.params, options);
  say.good(
    'writer',
    plan.length === 1
      ? `the pods' schema accepts ${JSON.stringify(plan[0])}`
      : `the pods' schema accepts all ${plan.length} planned values`,
  );

  let lastVersion: number | null = null;
  let createdParent = false;
  let restored: EventualReport['restored'] = 'unchanged';
  const restore = rt.defer(`restore ${PARAMS_PATH}`, async () => {
    restored = await restorePrevious(rt, writer, previous, lastVersion, createdParent);
  });
  const watchers: Watcher[] = [];
  try {
    const sessions = await Promise.all(
      Array.from({ length: options.watchers }, (_, i) => rt.openSession(`watcher-${i + 1}`)),
    );
    watchers.push(
      ...(await Promise.all(sessions.map((s, i) => startWatcher(rt, `watcher-${i + 1}`, s)))),
    );
    for (const w of watchers) {
      say.say(
        w.name,
        `own session ${w.session.sessionId}; cache primed at version ${w.version ?? '—'}`,
      );
    }

    if (!previous.existed) createdParent = await ensureParent(writer);
    say.phase(
      plan.length === 1 ? 'one write' : `${plan.length} writes back to back (pipelined, in order)`,
    );
    for (const w of watchers) w.recording = true;
    const sentAt = performance.now();
    const pending = plan.map((p, i) => {
      const data = JSON.stringify(p);
      const write =
        !previous.existed && i === 0
          ? writer.create(PARAMS_PATH, data).then(() => 0)
          : writer
              .setData(PARAMS_PATH, data, expectedVersion(previous, i))
              .then((stat) => stat.version);
      return write.then((version) => {
        lastVersion = Math.max(lastVersion ?? -1, version);
        const ackMs = since(sentAt);
        say.say(
          'writer',
          `#${i + 1} tasks_per_job=${p.tasks_per_job} → version ${version} (acked +${ackMs} ms)`,
        );
        return { index: i + 1, params: p, version, ackMs };
      });
    });
    const settled = await Promise.allSettled(pending);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      const why = isZkError(failed.reason, 'BAD_VERSION')
        ? 'someone else wrote it at the same time'
        : String(failed.reason);
      throw new HisteqError('ZK_ERROR', `Writing ${PARAMS_PATH} failed: ${why}.`);
    }
    const writes = settled.map(
      (s) => (s as PromiseFulfilledResult<EventualReport['writes'][number]>).value,
    );
    const final = writes[writes.length - 1] as EventualReport['writes'][number];

    const converged = await Promise.all(
      watchers.map((w) => convergence(w, final.version, options.timeoutMs)),
    );
    const written = writes.map((w) => w.version);
    const results = watchers.map((w, i) =>
      watcherResult(w, converged[i] ?? false, final, written, sentAt),
    );
    say.phase('convergence');
    for (const r of results) narrateWatcher(rt, r, options.timeoutMs);
    const finalJson = JSON.stringify(final.params);
    const monotonic = results.every((r) =>
      r.versionsSeen.every((v, i, a) => i === 0 || v > (a[i - 1] as number)),
    );
    const ok =
      monotonic && results.every((r) => r.converged && JSON.stringify(r.finalParams) === finalJson);
    const skipped = results.filter((r) => r.versionsSkipped.length > 0).length;
    const verdict = ok
      ? `All ${results.length} caches converged to version ${final.version} (tasks_per_job=${final.params.tasks_per_job})` +
        (plan.length > 1 ? `; ${skipped} of them skipped intermediate versions.` : '.')
      : `Not every cache converged to version ${final.version} within ${options.timeoutMs} ms` +
        (monotonic ? '.' : ', and a cache went back to an older version.');
    for (const w of watchers) w.stop();
    await restore();
    if (ok) say.good('demo', verdict);
    else say.bad('demo', verdict);
    return {
      demo: 'eventual',
      ok,
      guarantee: GUARANTEE,
      verdict,
      path: PARAMS_PATH,
      previous: { existed: previous.existed, version: previous.version, data: previous.data },
      writes,
      final: { version: final.version, params: final.params },
      watchers: results,
      restored,
    };
  } finally {
    for (const w of watchers) w.stop();
    await restore();
  }
}

interface Previous {
  existed: boolean;
  version: number | null;
  data: string | null;
  raw: Buffer | null;
  /** The current params as pods read them ({} when absent or malformed). */
  params: MapReduceParams;
}

async function readPrevious(writer: ZkSession): Promise<Previous> {
  const snapshot = await unlessMissing(writer.getData(PARAMS_PATH), null);
  if (!snapshot) return { existed: false, version: null, data: null, raw: null, params: {} };
  const check = checkParams(snapshot.data);
  return {
    existed: true,
    version: snapshot.stat.version,
    data: snapshot.data.toString('utf8'),
    raw: snapshot.data,
    params: check.ok ? check.params : {},
  };
}

/**
 * The version write `index` expects to replace: the writes are pipelined on one session, which
 * ZooKeeper applies in order, so each can be a compare-and-set without waiting for the last.
 */
function expectedVersion(previous: Previous, index: number): number {
  return previous.existed ? (previous.version ?? 0) + index : index - 1;
}

/** Keeps any other tunables; refuses, before writing anything, what the pods would ignore. */
function planWrites(current: MapReduceParams, options: EventualOptions): MapReduceParams[] {
  const first = options.tasksPerJob ?? (current.tasks_per_job ?? 1) + 1;
  return Array.from({ length: options.writes }, (_, i) => {
    const params = { ...current, tasks_per_job: first + i };
    const check = checkParams(JSON.stringify(params));
    if (!check.ok) {
      throw new HisteqError(
        'BAD_REQUEST',
        `The pods would ignore ${JSON.stringify(params)} in ${PARAMS_PATH} (${check.reason}); ` +
          'choose a smaller --tasks-per-job or fewer --writes.',
      );
    }
    return check.params;
  });
}

async function ensureParent(writer: ZkSession): Promise<boolean> {
  const parent = PARAMS_PATH.slice(0, PARAMS_PATH.lastIndexOf('/'));
  if ((await writer.exists(parent)) !== null) return false;
  await writer.ensurePath(parent);
  return true;
}

/** Puts the previous bytes back (or deletes the node), unless someone wrote after us. */
async function restorePrevious(
  rt: DemoRuntime,
  writer: ZkSession,
  previous: Previous,
  lastVersion: number | null,
  createdParent: boolean,
): Promise<EventualReport['restored']> {
  if (lastVersion === null) return 'unchanged';
  try {
    if (previous.existed) {
      await writer.setData(PARAMS_PATH, previous.raw ?? '', lastVersion);
      rt.narrator.say(
        'writer',
        `restored the previous config (version ${previous.version}'s bytes)`,
      );
      return 'previous';
    }
    await writer.remove(PARAMS_PATH, lastVersion);
    if (createdParent)
      await writer
        .remove(PARAMS_PATH.slice(0, PARAMS_PATH.lastIndexOf('/')))
        .catch(() => undefined);
    rt.narrator.say('writer', `deleted ${PARAMS_PATH} again (it did not exist before)`);
    return 'deleted';
  } catch (err) {
    if (!isZkError(err, 'BAD_VERSION', 'NO_NODE')) throw err;
    rt.narrator.warn('writer', `${PARAMS_PATH} changed after our last write; leaving it as it is`);
    return 'left-alone';
  }
}
