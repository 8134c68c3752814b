import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ZkOp, ZkSession } from '../../src/coordination/index.js';
import { JobStore } from '../../src/jobs/job-store.js';
import { jobRecord as record } from '../support/records.js';
import { Cleanup, openSession, startServer } from '../support/zk.js';

const LOG = 'job-store';
const FENCE: ZkOp = { op: 'check', path: '/fence', version: 0 };

const reads = (zk: ZkSession) => zk.operations.getData ?? 0;

describe('job records (JobStore)', () => {
  const cleanup = new Cleanup();
  let zk: ZkSession;
  let other: ZkSession;

  before(async () => {
    const server = await startServer(cleanup);
    zk = await openSession(cleanup, server, LOG, 'master-a');
    other = await openSession(cleanup, server, LOG, 'master-b');
    await zk.ensurePath('/fence');
  });
  after(() => cleanup.run());

  it('updates what it wrote last without reading it again', async () => {
    const store = new JobStore(zk, () => FENCE);
    await store.create(record('j1'));
    const before = reads(zk);
    for (let done = 1; done <= 5; done++) await store.update('j1', (r) => ({ ...r, done }));
    assert.equal(reads(zk) - before, 0, 'progress steps are one write each');
    assert.equal((await store.read('j1'))?.record.done, 5);
    assert.equal((await store.read('j1'))?.version, 5);
  });

  it('applies an update on top of a write by another master, never over it', async () => {
    const a = new JobStore(zk, () => FENCE);
    const b = new JobStore(other, () => FENCE);
    await a.create(record('j2'));
    await b.update('j2', (r) => ({ ...r, name: 'renamed by b' }));
    // a remembers version 0; its write is refused (BAD_VERSION) and redone on what is there.
    const result = await a.update('j2', (r) => ({ ...r, done: 7 }));
    assert.equal(result.name, 'renamed by b');
    const stored = await a.read('j2');
    assert.equal(stored?.record.name, 'renamed by b');
    assert.equal(stored?.record.done, 7);
  });

  it('decides "nothing to do" on the stored record, not on its memory', async () => {
    const a = new JobStore(zk, () => FENCE);
    const b = new JobStore(other, () => FENCE);
    await a.create(record('j3', { masters: ['pod-a'] }));
    await b.update('j3', (r) => ({ ...r, masters: [] }));
    // From memory pod-a is listed already (null = leave alone); the stored record says not.
    const result = await a.update('j3', (r) =>
      r.masters.includes('pod-a') ? null : { ...r, masters: [...r.masters, 'pod-a'] },
    );
    assert.deepEqual(result.masters, ['pod-a']);
    assert.deepEqual((await a.read('j3'))?.record.masters, ['pod-a']);
  });

  it('says the job does not exist when another master removed it', async () => {
    const a = new JobStore(zk, () => FENCE);
    const b = new JobStore(other, () => FENCE);
    await a.create(record('j4'));
    await b.remove('j4');
    await assert.rejects(
      a.update('j4', (r) => ({ ...r, done: 1 })),
      (err: Error & { code?: string }) =>
        err.code === 'NOT_FOUND' && /j4 does not exist/.test(err.message),
    );
  });

  it('refuses a malformed record with a sentence, and lists the others', async () => {
    const store = new JobStore(zk, () => FENCE);
    await store.create(record('good'));
    await zk.create('/jobs/bad', JSON.stringify({ id: 'bad', state: 'exploded' }));
    await assert.rejects(store.read('bad'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'BAD_RECORD');
      assert.match(err.message, /^The job record at \/jobs\/bad is malformed: .+\.$/);
      return true;
    });
    const ids = (await store.list()).map((r) => r.id);
    assert.ok(ids.includes('good') && !ids.includes('bad'), ids.join(', '));
    await zk.remove('/jobs/bad');
  });
});
