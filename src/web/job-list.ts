import { HttpError } from './http-errors.js';
import { FINISHED_STATES, JOB_STATES, type JobState, type JobView } from '../jobs/types.js';

/** The tabs of the jobs list: every state, and `active` for all the unfinished ones. */
const FILTERS: readonly string[] = ['active', ...JOB_STATES];
type StateFilter = JobState | 'active';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

export interface JobListQuery {
  states: StateFilter[];
  q: string;
  limit: number;
  /** The `createdAt|id` of the last job on the previous page. */
  after: string | null;
}

/** One row of the list: the status without the attempts and details of GET /api/jobs/<id>. */
export type JobSummary = Omit<JobView, 'attempts' | 'info' | 'phaseMs'> & {
  width?: number;
  height?: number;
};

export interface JobListPage {
  jobs: JobSummary[];
  /** Jobs matching `q` by state (and `all`, `active`), whatever `state=` says. */
  counts: Record<string, number>;
  /** Jobs matching the whole query, on every page. */
  total: number;
  /** Pass as `cursor=` for the next page; null on the last one. */
  next: string | null;
}

/** True when a request asks for the paged list (the plain array stays for older clients). */
export function wantsPage(query: Record<string, unknown>): boolean {
  return ['state', 'q', 'limit', 'cursor'].some((key) => query[key] !== undefined);
}

export function parseJobListQuery(query: Record<string, unknown>): JobListQuery {
  const states = [query.state]
    .flat()
    .flatMap((value) => (typeof value === 'string' ? value.split(',') : []))
    .map((s) => s.trim())
    .filter(Boolean);
  for (const state of states) {
    if (!FILTERS.includes(state)) {
      throw new HttpError(400, `The state filter "${state}" is not one of: ${FILTERS.join(', ')}.`);
    }
  }
  const limitText = typeof query.limit === 'string' ? query.limit : undefined;
  const limit = limitText === undefined ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new HttpError(400, `The field "limit" must be a whole number from 1 to ${MAX_LIMIT}.`);
  }
  const q = typeof query.q === 'string' ? query.q.trim().toLowerCase().slice(0, 200) : '';
  return {
    states: states as StateFilter[],
    q,
    limit,
    after: typeof query.cursor === 'string' ? decodeCursor(query.cursor) : null,
  };
}

/** Newest first (creation time, then id), filtered, one page of it. */
export function listPage(views: readonly JobView[], query: JobListQuery): JobListPage {
  const matching = query.q
    ? views.filter(
        (v) => v.id.toLowerCase().includes(query.q) || v.name.toLowerCase().includes(query.q),
      )
    : [...views];
  const counts: Record<string, number> = { all: matching.length, active: 0 };
  for (const v of matching) {
    counts[v.state] = (counts[v.state] ?? 0) + 1;
    if (!FINISHED_STATES.includes(v.state)) counts.active!++;
  }
  const selected = query.states.length
    ? matching.filter((v) => query.states.some((s) => matches(s, v.state)))
    : matching;
  selected.sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : sortKey(a) > sortKey(b) ? -1 : 0));
  const start = query.after === null ? 0 : selected.findIndex((v) => sortKey(v) < query.after!);
  const page = start < 0 ? [] : selected.slice(start, start + query.limit);
  const last = page.at(-1);
  const more = start >= 0 && start + query.limit < selected.length;
  return {
    jobs: page.map(summary),
    counts,
    total: selected.length,
    next: more && last ? encodeCursor(sortKey(last)) : null,
  };
}

function matches(filter: StateFilter, state: JobState): boolean {
  return filter === 'active' ? !FINISHED_STATES.includes(state) : filter === state;
}

const sortKey = (v: JobView) => `${v.createdAt}|${v.id}`;

function summary(v: JobView): JobSummary {
  const rest: Partial<JobView> = { ...v };
  delete rest.attempts;
  delete rest.info;
  delete rest.phaseMs;
  return { ...(rest as JobSummary), width: v.info.layout.width, height: v.info.layout.height };
}

function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{4}-\d\d-\d\dT[^|]+\|[A-Za-z0-9_-]{1,128}$/.test(key)) {
    throw new HttpError(
      400,
      'The cursor is not one this server gave out; start from the first page.',
    );
  }
  return key;
}
