import { pino } from 'pino';
import type { ZkDataSnapshot, ZkSession, ZkStat } from '../coordination/index.js';
import { ParamsWatcher, type MapReduceParams } from '../jobs/mapreduce-params.js';

export type ParamsCheck = { ok: true; params: MapReduceParams } | { ok: false; reason: string };

/**
 * Validates bytes for /config/mapreduce_params exactly as a pod does, by handing them to the
 * pods' own ParamsWatcher through a one-shot in-memory "session". The schema is private to
 * src/jobs/, and a copy here could drift from what the pods accept.
 */
export function checkParams(data: Buffer | string): ParamsCheck {
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
  const feed: { deliver?: (snapshot: ZkDataSnapshot | null) => void } = {};
  // ParamsWatcher only calls watchData.
  const oneShot: Pick<ZkSession, 'watchData'> = {
    watchData: (_path, onChange) => {
      feed.deliver = onChange;
      return () => {};
    },
  };
  const watcher = new ParamsWatcher(oneShot as ZkSession, logger);
  const before = watcher.current;
  const stat = { version: 0 } as ZkStat; // only logged
  feed.deliver?.({ data: Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), stat });
  watcher.close();
  // A valid value replaces the cache with a freshly parsed object; a rejected one keeps it.
  if (watcher.current !== before) return { ok: true, params: watcher.current };
  return { ok: false, reason: reasonOf(warnings) };
}

/** The pods log the rejection (a zod issue list or a JSON syntax error); make it a sentence. */
function reasonOf(warnings: string[]): string {
  let err = '';
  try {
    err = String((JSON.parse(warnings[0] ?? '{}') as { err?: unknown }).err ?? '');
  } catch {
    return 'the pods would ignore it';
  }
  try {
    const issues = JSON.parse(err) as { path?: unknown[]; message?: string }[];
    return issues
      .map((i) => `${i.path?.length ? i.path.join('.') : 'value'}: ${i.message}`)
      .join('; ');
  } catch {
    return err || 'the pods would ignore it';
  }
}
