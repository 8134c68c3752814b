import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/common/random.js';
import { JOB_STATES, type JobView } from '../../src/jobs/types.js';
import { listPage, parseJobListQuery, wantsPage } from '../../src/web/job-list.js';
import { jobId, jobView } from '../support/browser.js';

describe('the jobs list query', () => {
  const random = seededRandom(42);
  const base = Date.parse('2026-11-01T00:00:00Z');
  // Some jobs share a creation time: the id breaks the tie, so pages never repeat or skip one.
  const views: JobView[] = Array.from({ length: 230 }, (_, i) => {
    const at = new Date(base + Math.floor(random() * 100) * 1000);
    const id = jobId(at, i);
    const state = JOB_STATES[Math.floor(random() * JOB_STATES.length)]!;
    return { ...jobView(id, { state }, at), name: i % 5 === 0 ? `Holiday-${i}.png` : `x${i}.tif` };
  });
  const key = (v: JobView) => `${v.createdAt}|${v.id}`;
  const newestFirst = [...views].sort((a, b) => (key(a) < key(b) ? 1 : -1));

  it('pages through every match exactly once, newest first', () => {
    for (const states of [[], ['done'], ['active'], ['failed', 'cancelled']]) {
      const expected = newestFirst.filter(
        (v) =>
          states.length === 0 ||
          states.includes(v.state) ||
          (states.includes('active') && !['done', 'failed', 'cancelled'].includes(v.state)),
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 50; pages++) {
        const query: Record<string, string> = { limit: '17' };
        if (states.length) query.state = states.join(',');
        if (cursor) query.cursor = cursor;
        const page = listPage(views, parseJobListQuery(query));
        assert.equal(page.total, expected.length);
        seen.push(...page.jobs.map((j) => j.id));
        cursor = page.next;
        if (!cursor) break;
      }
      assert.deepEqual(
        seen,
        expected.map((v) => v.id),
        `states ${states.join(',')}`,
      );
    }
  });

  it('counts by state over the search, and searches names and ids without case', () => {
    const page = listPage(views, parseJobListQuery({ q: 'HOLIDAY', state: 'done' }));
    const hits = views.filter((v) => v.name.toLowerCase().includes('holiday'));
    assert.equal(page.counts.all, hits.length);
    for (const state of JOB_STATES) {
      assert.equal(page.counts[state] ?? 0, hits.filter((v) => v.state === state).length);
    }
    assert.deepEqual(
      page.jobs.map((j) => j.id),
      newestFirst.filter((v) => hits.includes(v) && v.state === 'done').map((v) => v.id),
    );
    const byId = listPage(views, parseJobListQuery({ q: views[7]!.id.toUpperCase() }));
    assert.deepEqual(
      byId.jobs.map((j) => j.id),
      [views[7]!.id],
    );
    assert.equal('attempts' in byId.jobs[0]!, false, 'rows leave out the attempts');
  });

  it('refuses unknown states, odd limits and forged cursors with a sentence', () => {
    assert.throws(() => parseJobListQuery({ state: 'sideways' }), /not one of/);
    assert.throws(() => parseJobListQuery({ limit: '0' }), /limit/);
    assert.throws(() => parseJobListQuery({ limit: '9999' }), /limit/);
    assert.throws(() => parseJobListQuery({ cursor: 'bm9wZQ' }), /cursor/);
    assert.equal(wantsPage({}), false);
    assert.equal(wantsPage({ q: '' }), true);
  });
});
