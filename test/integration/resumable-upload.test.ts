import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readLocalMaster } from '../../src/cluster/local-labeler.js';
import { JOB_ID } from '../../src/jobs/paths.js';
import { TOKEN_WRONG } from '../../src/web/auth.js';
import { JOB_ID_HEADER, TUS_PATH } from '../../src/web/tus/protocol.js';
import { eventually, startTestCluster, uploadFile, type TestCluster } from '../support/cluster.js';
import { runHisteq } from '../support/cli-run.js';
import { CLI } from '../support/paths.js';
import { lowContrastImage, writeImage } from '../support/images.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const TOKEN = 'resumable-upload-token';
const auth = { Authorization: `Bearer ${TOKEN}` };
const MAX_UPLOAD_BYTES = 8 * 1024 * 1024;
let tc: TestCluster;
let dir: string;

before(async () => {
  [tc, dir] = await Promise.all([
    startTestCluster({
      pods: 3,
      env: { API_TOKEN: TOKEN, MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) },
    }),
    mkdtemp(join(tmpdir(), 'resumable-')),
  ]);
});
after(async () => {
  await Promise.all([tc?.close(), rm(dir, { recursive: true, force: true })]);
});

const tusDir = () => join(tc.cluster.sharedDir, 'resumable');
const tusHeaders = { ...auth, 'Tus-Resumable': '1.0.0' };
const metadata = (fields: Record<string, string>) =>
  Object.entries(fields)
    .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
    .join(',');

/** A tus creation (POST) for `size` bytes; returns the answer and the upload's URL. */
async function create(size: number, fields: Record<string, string>, headers = tusHeaders) {
  const res = await fetch(`${tc.url}${TUS_PATH}`, {
    method: 'POST',
    headers: { ...headers, 'Upload-Length': String(size), 'Upload-Metadata': metadata(fields) },
  });
  const location = res.headers.get('location');
  return { res, url: location ? new URL(location, tc.url).toString() : null };
}

async function patch(url: string, offset: number, body: Uint8Array) {
  return fetch(url, {
    method: 'PATCH',
    headers: {
      ...tusHeaders,
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
    },
    body,
  });
}

/** The pods' log lines (JSON) that carry `message`. */
async function logLines(message: string): Promise<Record<string, unknown>[]> {
  const names = await readdir(tc.cluster.logDir);
  const lines: Record<string, unknown>[] = [];
  for (const name of names) {
    for (const line of (await readFile(join(tc.cluster.logDir, name), 'utf8')).split('\n')) {
      if (!line.includes(message)) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line cut by the kill
      }
    }
  }
  return lines;
}

describe('resumable uploads (tus) on a real cluster', { timeout: 240_000 }, () => {
  it('histeq submit resumes on the new master when the master dies mid-upload', async () => {
    const input = join(dir, 'resume.tif');
    await writeImage(lowContrastImage(1000, 800, 1, 8, 33), input, 'tiff');
    const { size } = await stat(input);
    const reference = join(dir, 'reference.tif');
    assert.equal((await runHisteq(['equalize', input, reference])).code, 0);

    // A slow uplink (about 8 s for the file), so the kill lands mid-upload.
    const door = new URL(tc.url);
    const proxy = await TcpProxy.start(door.hostname, Number(door.port), {
      bytesPerSecond: Math.ceil(size / 8),
    });
    try {
      const out = join(dir, 'resumed.tif');
      const server = `http://${proxy.connectionString}`;
      const submitted = runHisteq(
        ['submit', input, '--server', server, '--token', TOKEN, '--out', out],
        {},
        180_000,
      );
      // Kill once a fifth of the file is on the shared volume.
      const partial = await eventually(
        'a fifth of the upload stored',
        async () => {
          const names = await readdir(tusDir()).catch(() => [] as string[]);
          for (const name of names.filter((n) => /^[0-9a-f]{32}$/.test(n))) {
            const stored = (await stat(join(tusDir(), name)).catch(() => null))?.size ?? 0;
            if (stored > size / 5) return { id: name, stored };
          }
          return null;
        },
        30_000,
        50,
      );
      const master = await readLocalMaster(tc.cluster.registryPath);
      assert.ok(master && tc.cluster.killPod(master.pod, 'SIGKILL'), 'the master was running');

      const run = await submitted;
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(await readFile(out), await readFile(reference));

      // Server side: a transfer started at an offset past the start, on another pod, and the
      // transfers the surviving pods logged brought less than the whole file.
      const transfers = (await logLines('resumable upload transfer ended')).filter(
        (l) => l.uploadId === partial.id,
      );
      const resumed = transfers.filter((l) => Number(l.offset) > 0);
      assert.ok(resumed.length > 0, JSON.stringify(transfers));
      assert.ok(
        resumed.every((l) => l.pod !== master.pod),
        'the resume was on a new master',
      );
      const first = Math.min(...resumed.map((l) => Number(l.offset)));
      assert.ok(first >= partial.stored * 0.5, `resumed at ${first}, stored ${partial.stored}`);
      const received = transfers.reduce((sum, l) => sum + Number(l.received), 0);
      assert.ok(received < size, `the survivors received ${received} of ${size} bytes`);
      console.log(
        `killed at ${partial.stored} of ${size} bytes stored; resumed at ${first}; the new master received ${received} bytes`,
      );
      // The finished upload left only its job record behind.
      assert.deepEqual(
        (await readdir(tusDir())).filter((n) => n.startsWith(partial.id)),
        [`${partial.id}.job`],
      );
    } finally {
      await proxy.close();
    }
  });

  it('histeq submit run again after it was killed mid-upload continues the same upload', async () => {
    const input = join(dir, 'rerun.tif');
    await writeImage(lowContrastImage(900, 700, 1, 8, 47), input, 'tiff');
    const { size } = await stat(input);
    const reference = join(dir, 'rerun-reference.tif');
    assert.equal((await runHisteq(['equalize', input, reference])).code, 0);
    const cache = join(dir, 'rerun-cache');
    const env = { XDG_CACHE_HOME: cache };
    const door = new URL(tc.url);
    const proxy = await TcpProxy.start(door.hostname, Number(door.port), {
      bytesPerSecond: Math.ceil(size / 8),
    });
    try {
      const out = join(dir, 'rerun.out.tif');
      const args = ['submit', input, '--server', `http://${proxy.connectionString}`];
      args.push('--token', TOKEN, '--out', out);
      const first = spawn('node', [CLI, ...args], {
        env: { ...process.env, ...env },
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => first.once('exit', resolve));
      const partial = await eventually(
        'a fifth of the upload stored',
        async () => {
          const names = await readdir(tusDir()).catch(() => [] as string[]);
          for (const name of names.filter((n) => /^[0-9a-f]{32}$/.test(n))) {
            if ((await readFile(join(tusDir(), `${name}.json`), 'utf8').catch(() => '')) === '') {
              continue;
            }
            const info = JSON.parse(await readFile(join(tusDir(), `${name}.json`), 'utf8')) as {
              metadata?: { name?: string };
            };
            if (info.metadata?.name !== 'rerun.tif') continue;
            const stored = (await stat(join(tusDir(), name)).catch(() => null))?.size ?? 0;
            if (stored > size / 5) return { id: name, stored };
          }
          return null;
        },
        30_000,
        50,
      );
      first.kill('SIGKILL');
      await exited;
      const remembered = await readFile(join(cache, 'histeq', 'uploads.json'), 'utf8');
      assert.match(remembered, new RegExp(partial.id), 'the killed run remembered its upload');

      const again = await runHisteq(args, env, 120_000);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /continuing the upload of .*rerun\.tif that an earlier run left/);
      assert.deepEqual(await readFile(out), await readFile(reference));
      // The second run sent the same upload's rest, from where the server had stopped.
      const transfers = (await logLines('resumable upload transfer ended')).filter(
        (l) => l.uploadId === partial.id,
      );
      const later = transfers.filter((l) => Number(l.offset) >= partial.stored);
      assert.ok(later.length > 0, JSON.stringify(transfers));
      const received = later.reduce((sum, l) => sum + Number(l.received), 0);
      assert.ok(received < size, `the second run sent ${received} of ${size} bytes`);
      console.log(`killed at ${partial.stored} of ${size} bytes; the rerun sent ${received}`);
      // Finished: nothing is left to continue.
      const after = JSON.parse(await readFile(join(cache, 'histeq', 'uploads.json'), 'utf8'));
      assert.deepEqual(after, {});
    } finally {
      await proxy.close();
    }
  });

  it('needs the token, refuses oversize and bad options before storing, and is master-only', async () => {
    const none = await create(10, { name: 'a.png' }, { 'Tus-Resumable': '1.0.0' } as never);
    assert.equal(none.res.status, 401);
    const wrong = await create(10, { name: 'a.png' }, {
      'Tus-Resumable': '1.0.0',
      Authorization: 'Bearer not-it',
    } as never);
    assert.equal(wrong.res.status, 401);
    assert.equal(((await wrong.res.json()) as { error: string }).error, TOKEN_WRONG);

    const big = await create(MAX_UPLOAD_BYTES + 1, { name: 'big.tif' });
    assert.equal(big.res.status, 413);
    assert.match(((await big.res.json()) as { error: string }).error, /\(MAX_UPLOAD_BYTES\)/);
    // histeq submit tells the same sentence, in one line.
    const bigFile = join(dir, 'big.tif');
    await writeFile(bigFile, Buffer.alloc(MAX_UPLOAD_BYTES + 1));
    const cli = await runHisteq(['submit', bigFile, '--server', tc.url, '--token', TOKEN]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr.trim(), /^[^\n]*refused the upload \(413\): .*\(MAX_UPLOAD_BYTES\)\.$/);
    const mode = await create(10, { name: 'a.png', mode: 'sepia' });
    assert.equal(mode.res.status, 400);
    assert.match(((await mode.res.json()) as { error: string }).error, /"mode" must be one of/);
    assert.equal(big.url, null);

    const master = await readLocalMaster(tc.cluster.registryPath);
    const worker = tc.cluster.pods.find((p) => p.name !== master?.pod && p.process);
    assert.ok(worker && master);
    const refused = await fetch(`${worker.url}${TUS_PATH}`, {
      method: 'POST',
      headers: { ...tusHeaders, 'Upload-Length': '10' },
    });
    assert.equal(refused.status, 503);
    const body = (await refused.json()) as { error: string; master: { pod: string } };
    assert.equal(body.master.pod, master.pod);
    assert.match(body.error, /is a worker; the master is/);

    // Through the front door: OPTIONS tells the protocol and the size limit.
    const options = await fetch(`${tc.url}${TUS_PATH}`, { method: 'OPTIONS', headers: auth });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('tus-max-size'), String(MAX_UPLOAD_BYTES));
  });

  it('a finished upload that is no image gets the same sentence as POST /upload and leaves no files', async () => {
    const notes = Buffer.from('these are notes, not an image\n'.repeat(20));
    const classic = await uploadFile(tc.url, notes, 'notes.tif', {}, auth);
    assert.equal(classic.status, 415);
    const uploadsBefore = await readdir(join(tc.cluster.sharedDir, 'uploads'));

    const { res, url } = await create(notes.length, { name: 'notes.tif' });
    assert.equal(res.status, 201);
    assert.ok(url);
    const head = await patch(url, 0, notes.subarray(0, 100));
    assert.equal(head.status, 204);
    assert.equal(head.headers.get('upload-offset'), '100');
    const offset = await fetch(url, { method: 'HEAD', headers: tusHeaders });
    assert.equal(offset.headers.get('upload-offset'), '100');
    const last = await patch(url, 100, notes.subarray(100));
    assert.equal(last.status, 415);
    assert.deepEqual(await last.json(), classic.body);
    assert.deepEqual(await readdir(tusDir()).then((n) => n.filter((f) => url.endsWith(f))), []);
    assert.deepEqual(await readdir(join(tc.cluster.sharedDir, 'uploads')), uploadsBefore);
    const gone = await fetch(url, { method: 'HEAD', headers: tusHeaders });
    assert.equal(gone.status, 404);
  });

  it('names the job on the last PATCH and at GET /api/uploads/<id>/job', async () => {
    const input = join(dir, 'small.png');
    await writeImage(lowContrastImage(64, 48, 1, 8, 4), input, 'png');
    const data = await readFile(input);
    const { url } = await create(data.length, {
      name: 'small.png',
      mode: 'per-channel',
      method: 'clahe',
      clip_limit: '3',
      tiles: '2x2',
    });
    assert.ok(url);
    const done = await patch(url, 0, data);
    assert.equal(done.status, 204);
    const jobId = done.headers.get(JOB_ID_HEADER);
    assert.ok(jobId && JOB_ID.test(jobId), String(jobId));
    const lookup = await fetch(`${url}/job`, { headers: auth });
    assert.deepEqual(await lookup.json(), { job_id: jobId });
    const job = (await (await fetch(`${tc.url}/api/jobs/${jobId}`, { headers: auth })).json()) as {
      name: string;
      options: unknown;
    };
    assert.equal(job.name, 'small.png');
    assert.deepEqual(job.options, {
      mode: 'per-channel',
      page: 0,
      method: 'clahe',
      clahe: { clipLimit: 3, tilesX: 2, tilesY: 2 },
    });
  });
});
