/** The eventual demo's watchers: each keeps a validated cache of /config/mapreduce_params. */
import { performance } from 'node:perf_hooks';
import type { ZkSession } from '../coordination/index.js';
import type { MapReduceParams } from '../jobs/mapreduce-params.js';
import { PARAMS_PATH } from '../jobs/paths.js';
import { round } from './narration.js';
import { checkParams } from './params-check.js';
import type { DemoRuntime } from './runtime.js';

export interface EventualWatcherResult {
  name: string;
  converged: boolean;
  /** From sending the last write to this cache holding it; null when it never did. */
  convergenceMs: number | null;
  /** Versions delivered after the writes began, in order. */
  versionsSeen: number[];
  /** Written versions this watcher never saw (a one-shot watch fires once per arming). */
  versionsSkipped: number[];
  finalVersion: number | null;
  finalParams: MapReduceParams | null;
}

/** One watcher: its own session, and a cache of the tunables kept by a watch. */
export interface Watcher {
  name: string;
  session: ZkSession;
  stop: () => void;
  version: number | null;
  params: MapReduceParams | null;
  /** Deliveries after the writes began: version and arrival time. */
  seen: { version: number; at: number }[];
  recording: boolean;
  onChange: (() => void) | null;
}

/** A cache kept by the project's re-arming watch, validated like a pod validates it. */
export function startWatcher(rt: DemoRuntime, name: string, session: ZkSession): Promise<Watcher> {
  return new Promise((resolve) => {
    const w: Watcher = {
      name,
      session,
      stop: () => {},
      version: null,
      params: null,
      seen: [],
      recording: false,
      onChange: null,
    };
    let primed = false;
    w.stop = session.watchData(PARAMS_PATH, (snapshot) => {
      const at = performance.now();
      const version = snapshot ? snapshot.stat.version : null;
      if (snapshot) {
        const check = checkParams(snapshot.data);
        // Like a pod: a malformed value is ignored and the previous one kept.
        if (check.ok) w.params = check.params;
      } else {
        w.params = null;
      }
      const changed = version !== w.version;
      w.version = version;
      if (w.recording && changed && version !== null) {
        w.seen.push({ version, at });
        rt.narrator.say(
          name,
          `watch fired; re-read version ${version} ${JSON.stringify(w.params)}`,
        );
      }
      w.onChange?.();
      if (!primed) {
        primed = true;
        resolve(w);
      }
    });
  });
}

/** True once the cache holds `version`, false after `timeoutMs`; woken by deliveries, not polls. */
export function convergence(w: Watcher, version: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (value: boolean): void => {
      clearTimeout(timer);
      w.onChange = null;
      resolve(value);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    w.onChange = () => {
      if (w.version === version) done(true);
    };
    w.onChange();
  });
}

export function watcherResult(
  w: Watcher,
  converged: boolean,
  final: { version: number },
  written: number[],
  sentAt: number,
): EventualWatcherResult {
  const versionsSeen = w.seen.map((s) => s.version);
  const hit = w.seen.find((s) => s.version === final.version);
  return {
    name: w.name,
    converged,
    convergenceMs: converged && hit ? round(hit.at - sentAt) : null,
    versionsSeen,
    versionsSkipped: written.filter((v) => !versionsSeen.includes(v)),
    finalVersion: w.version,
    finalParams: w.params,
  };
}

export function narrateWatcher(rt: DemoRuntime, r: EventualWatcherResult, timeoutMs: number): void {
  const seen = `saw version(s) ${r.versionsSeen.join(', ') || 'none'}`;
  const skipped = r.versionsSkipped.length ? `, skipped ${r.versionsSkipped.join(', ')}` : '';
  if (r.converged) {
    rt.narrator.good(
      r.name,
      `converged in ${r.convergenceMs} ms: ${seen}${skipped}; cache ${JSON.stringify(r.finalParams)}`,
    );
  } else {
    rt.narrator.bad(
      r.name,
      `did not converge within ${timeoutMs} ms: ${seen}; cache at version ${r.finalVersion}`,
    );
  }
}
