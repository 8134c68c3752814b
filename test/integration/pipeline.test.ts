import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { io } from 'socket.io-client';
import type { JobStatusEvent } from '../../src/jobs/types.js';
import type { ClusterSnapshot } from '../../src/web/deps.js';
import { readLocalMaster } from '../../src/cluster/local-labeler.js';
import { pngHeaderOnly } from '../support/hostile-images.js';
import { lowContrastImage, writeImage } from '../support/images.js';
import {
  startTestCluster,
  uploadFile,
  waitForJob,
  eventually,
  type TestCluster,
} from '../support/cluster.js';
import { groupAndSession } from '../support/procfs.js';
import { CLI } from '../support/paths.js';

const exec = promisify(execFile);
let tc: TestCluster;
let fixtures: string;

before(async () => {
  fixtures = await mkdtemp(join(tmpdir(), 'pipeline-'));
  tc = await startTestCluster({ pods: 5 });
});
after(async () => {
  await tc?.close();
  await rm(fixtures, { recursive: true, force: true });
});

async function cluster(url: string): Promise<ClusterSnapshot> {
  return (await (await fetch(`${url}/api/cluster`)).json()) as ClusterSnapshot;
}

/** The single-process result of the same input, from the CLI. */
async function singleProcess(input: string, ext: string, args: string[] = []): Promise<Buffer> {
  const output = `${input}.cli.${ext}`;
  await exec('node', [CLI, 'equalize', input, output, ...args]);
  return readFile(output);
}

async function download(url: string, path: string): Promise<Buffer> {
  const res = await fetch(`${url}${path}`);
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
}

describe('the distributed pipeline on a 5-pod local cluster', () => {
  it('elects exactly one master, labels it, and every pod agrees', async () => {
    const snap = await eventually('five pods with one master', async () => {
      const s = await cluster(tc.url);
      return s.pods.length === 5 && s.pods.filter((p) => p.role === 'master').length === 1 && s;
    });
    const master = snap.pods.find((p) => p.role === 'master')!;
    assert.equal(snap.master, master.pod);
    assert.equal((await readLocalMaster(tc.cluster.registryPath))?.pod, master.pod);
    assert.equal(snap.zk.state, 'connected');
  });

  it('runs each pod in a process group of its own, in the launcher session', () => {
    const ours = groupAndSession('self');
    for (const pod of tc.cluster.pods) {
      const { pgid, sid } = groupAndSession(pod.pid!);
      assert.equal(pgid, pod.pid, `${pod.name}: a Ctrl-C for the launcher must not reach it`);
      // One session = one autogroup: the pods' nice levels compare (README, Performance).
      assert.equal(sid, ours.sid, `${pod.name}: shares the launcher's CPU group`);
    }
  });

  it('a job through the cluster equals the single-process result byte for byte', async () => {
    const image = lowContrastImage(640, 481, 1, 8, 42);
    const input = join(fixtures, 'grey.tif');
    await writeImage(image, input, 'tiff');
    const { status, body } = await uploadFile(tc.url, await readFile(input), 'grey.tif');
    assert.equal(status, 200, JSON.stringify(body));
    const job = await waitForJob(tc.url, body.job_id as string);
    assert.equal(job.state, 'done', job.error);
    assert.equal(job.total, 5); // one task per live pod by default
    assert.ok(job.url);
    const distributed = await download(tc.url, job.url!);
    assert.deepEqual(distributed, await singleProcess(input, 'tif'));
    // Every task attempt is recorded with the pod that ran it.
    assert.equal(job.attempts.filter((a) => a.outcome === 'done').length, 10);
    // ... and the pool thread that did its work (strips this size are not run inline, on the
    // pod's main thread: 0).
    for (const a of job.attempts.filter((x) => x.outcome === 'done')) {
      assert.ok(Number.isInteger(a.thread) && a.thread! > 0, JSON.stringify(a));
    }
  });

  it('runs several concurrent jobs of different kinds, each exact', async () => {
    const cases = [
      { name: 'g16.tif', image: lowContrastImage(300, 257, 1, 16, 7), format: 'tiff', args: [] },
      { name: 'rgb.png', image: lowContrastImage(320, 200, 3, 8, 8), format: 'png', args: [] },
      {
        name: 'rgba.png',
        image: lowContrastImage(211, 190, 4, 8, 9),
        format: 'png',
        args: ['--mode', 'per-channel'],
      },
    ] as const;
    const uploads = await Promise.all(
      cases.map(async (c) => {
        const path = join(fixtures, c.name);
        await writeImage(c.image, path, c.format, { compression: 'lzw' });
        const fields: Record<string, string> = c.args.length ? { mode: c.args[1] } : {};
        return { path, c, res: await uploadFile(tc.url, await readFile(path), c.name, fields) };
      }),
    );
    for (const { path, c, res } of uploads) {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const job = await waitForJob(tc.url, res.body.job_id as string);
      assert.equal(job.state, 'done', job.error);
      const ext = c.format === 'tiff' ? 'tif' : 'png';
      assert.deepEqual(
        await download(tc.url, job.url!),
        await singleProcess(path, ext, [...c.args]),
        c.name,
      );
    }
  });

  it('a Socket.IO client that connects late gets the cluster and the latest job states', async () => {
    const socket = io(tc.url, { transports: ['websocket'], reconnection: false });
    try {
      const got = { cluster: null as ClusterSnapshot | null, jobs: [] as JobStatusEvent[] };
      socket.on('cluster', (c: ClusterSnapshot) => (got.cluster = c));
      socket.on('job_status', (s: JobStatusEvent) => got.jobs.push(s));
      await eventually('late-joiner state', () => got.cluster && got.jobs.length >= 4, 10_000);
      assert.equal(got.cluster!.pods.length, 5);
      const done = got.jobs.filter((j) => j.state === 'done');
      assert.ok(done.length >= 4);
      assert.ok(done.every((j) => j.url?.startsWith('/download/') && j.done === j.total));
    } finally {
      socket.close();
    }
  });

  it('workers refuse uploads and API calls with 503 naming the master', async () => {
    const snap = await cluster(tc.url);
    const worker = snap.pods.find((p) => p.role === 'worker')!;
    const res = await uploadFile(worker.url, Buffer.from('x'), 'x.tif');
    assert.equal(res.status, 503);
    assert.match(String(res.body.error), /worker/);
    assert.deepEqual((res.body.master as { pod: string }).pod, snap.master);
    const api = await fetch(`${worker.url}/api/jobs`);
    assert.equal(api.status, 503);
  });

  it('bad uploads get 4xx with a sentence and leave nothing behind', async () => {
    const before = (await (await fetch(`${tc.url}/api/jobs`)).json()) as unknown[];
    const png = await readFile(join(fixtures, 'rgb.png'));
    const tif = await readFile(join(fixtures, 'grey.tif'));
    const bad: [string, Uint8Array, number, RegExp][] = [
      ['empty.tif', new Uint8Array(0), 400, /empty/],
      ['notes.tif', Buffer.from('not an image at all'), 415, /not a TIFF, PNG or JPEG/],
      ['cut.png', png.subarray(0, Math.floor(png.length / 2)), 400, /^The PNG file is truncated/],
      [
        'cut.tif',
        tif.subarray(0, Math.floor(tif.length * 0.9)),
        400,
        /^The TIFF file is truncated/,
      ],
      // A valid header that claims 70000×70000 (past 2^32 pixels): refused as content (422), not as a big body.
      ['bomb.png', pngHeaderOnly(70_000, 70_000), 422, /more than the limit of [\d,]+ pixels/],
      [
        '../../etc/passwd.png',
        Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'),
        415,
        /GIF/,
      ],
    ];
    for (const [name, bytes, status, sentence] of bad) {
      const res = await uploadFile(tc.url, bytes, name);
      assert.equal(res.status, status, `${name}: ${JSON.stringify(res.body)}`);
      assert.match(String(res.body.error), sentence, name);
      assert.match(
        String(res.body.error),
        /^[A-Z].*\.$/,
        `${name}: one sentence, got ${JSON.stringify(res.body)}`,
      );
      assert.doesNotMatch(String(res.body.error), /\/tmp|at .*\.js/, 'no paths or stack traces');
    }
    const afterJobs = (await (await fetch(`${tc.url}/api/jobs`)).json()) as unknown[];
    assert.equal(afterJobs.length, before.length);
    const shared = join(tc.dir, 'shared');
    const leftovers = (await readdir(join(shared, 'uploads'))).filter(
      (f) => !/^[a-z0-9-]+\.upload$/.test(f),
    );
    assert.deepEqual(leftovers, []);
    assert.deepEqual(await readdir(join(shared, 'work')), []);
    const uploads = await readdir(join(shared, 'uploads'));
    assert.equal(uploads.length, before.length, 'only accepted uploads are kept');
  });
  it('an image whose rows are corrupt is accepted, then fails with the decoder’s sentence', async () => {
    // The header is valid (the upload is answered at once); the rows are not there. The decode
    // runs as the job's first step, so the job fails with a reason and keeps only its record.
    const res = await uploadFile(tc.url, pngHeaderOnly(64, 64), 'rows-missing.png');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const id = String(res.body.job_id);
    const job = await waitForJob(tc.url, id);
    assert.equal(job.state, 'failed');
    assert.match(String(job.error), /^The image data is corrupt \(.*\)\.$/);
    assert.doesNotMatch(String(job.error), /\/tmp|at .*\.js/, 'no paths or stack traces');
    await eventually('its work files to go', async () =>
      (await readdir(join(tc.dir, 'shared', 'work'))).every((name) => name !== id),
    );
  });
});

describe('too few pods', () => {
  it('the master raises cluster_alert and refuses uploads with 503 and a sentence', async () => {
    const small = await startTestCluster({ pods: 2, env: { MIN_PODS: '3' } });
    try {
      const socket = io(small.url, { transports: ['websocket'], reconnection: false });
      const alerts: { status: string; message: string }[] = [];
      socket.on('cluster_alert', (a: { status: string; message: string }) => alerts.push(a));
      const snap = await eventually('the alert in the cluster view', async () => {
        const s = await cluster(small.url);
        return s.pods.length === 2 && s.alerts.length > 0 && s;
      });
      assert.match(snap.alerts[0].message, /MIN_PODS/);
      const img = join(fixtures, 'small.png');
      await writeImage(lowContrastImage(20, 20, 1, 8, 1), img, 'png');
      const res = await uploadFile(small.url, await readFile(img), 'small.png');
      assert.equal(res.status, 503);
      assert.match(String(res.body.error), /at least 3 are required/);
      socket.close();
    } finally {
      await small.close();
    }
  });
});
