import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import type { ZkSession } from '../../src/coordination/index.js';
import { PARAMS_PATH } from '../../src/jobs/paths.js';
import { startTestCluster, uploadFile, waitForJob, type TestCluster } from './cluster.js';
import { CLI } from './paths.js';
import { Cleanup, openSession } from './zk.js';

const exec = promisify(execFile);

/**
 * A test file's cluster for "the distributed result equals the single process's at any task
 * count": real pods, an admin ZooKeeper session that sets `tasks_per_job` the way an operator
 * does, and a scratch folder. Registers the file's before/after hooks; use the getters in tests.
 */
export interface TaskCountCluster {
  readonly tc: TestCluster;
  readonly admin: ZkSession;
  /** A scratch folder, removed after the file's tests. */
  readonly dir: string;
  /** Sets `/config/mapreduce_params`' tasks_per_job and gives the pods' watches time to see it. */
  setTasksPerJob(tasks: number): Promise<void>;
  /** `histeq equalize IN OUT ...args` as documented; its output. */
  equalizeWithCli(input: string, output: string, args: readonly string[]): Promise<string>;
  /**
   * Uploads `input` once per task count and asserts each job ends done with exactly `expected`
   * as its result.
   */
  expectSameResultAtTaskCounts(
    input: string,
    fields: Record<string, string>,
    expected: Buffer,
    counts?: readonly number[],
  ): Promise<void>;
}

export function taskCountCluster(name: string, pods: number): TaskCountCluster {
  const cleanup = new Cleanup();
  let tc: TestCluster | undefined;
  let admin: ZkSession | undefined;
  let dir: string | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), `${name}-`));
    tc = await startTestCluster({ pods });
    admin = await openSession(cleanup, tc.zk, name, 'test-admin');
  });
  after(async () => {
    await cleanup.run();
    await tc?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const started = <T>(value: T | undefined): T => {
    assert.ok(value !== undefined, 'the cluster starts in before()');
    return value;
  };
  const fixture: TaskCountCluster = {
    get tc() {
      return started(tc);
    },
    get admin() {
      return started(admin);
    },
    get dir() {
      return started(dir);
    },
    async setTasksPerJob(tasks) {
      await fixture.admin.ensurePath(PARAMS_PATH);
      await fixture.admin.setData(PARAMS_PATH, JSON.stringify({ tasks_per_job: tasks }));
      await new Promise((r) => setTimeout(r, 300)); // the pods learn it through their watch
    },
    async equalizeWithCli(input, output, args) {
      const { stdout, stderr } = await exec('node', [CLI, 'equalize', input, output, ...args]);
      return stdout + stderr;
    },
    async expectSameResultAtTaskCounts(input, fields, expected, counts = [1, 3, 7]) {
      const bytes = await readFile(input);
      for (const tasks of counts) {
        await fixture.setTasksPerJob(tasks);
        const up = await uploadFile(fixture.tc.url, bytes, basename(input), fields);
        assert.equal(up.status, 200, JSON.stringify(up.body));
        const job = await waitForJob(fixture.tc.url, String(up.body.job_id));
        assert.equal(job.state, 'done', job.error);
        const res = await fetch(`${fixture.tc.url}${job.url!}`);
        const got = Buffer.from(await res.arrayBuffer());
        assert.ok(
          got.equals(expected),
          `${tasks} tasks: the result equals the single process's byte for byte`,
        );
      }
    },
  };
  return fixture;
}
