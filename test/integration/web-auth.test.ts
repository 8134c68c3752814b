import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { io as connectClient, type Socket } from 'socket.io-client';
import { loadConfig } from '../../src/config.js';
import { startWebHarness, type WebHarness } from '../support/web-harness.js';

const TOKEN = 'test-token-0123456789abcdef';

function form(): FormData {
  const body = new FormData();
  body.append('image', new Blob([Buffer.alloc(100, 7)]), 'a.png');
  return body;
}

/** Resolves 'connected' or the connect_error message. */
function connect(url: string, auth?: Record<string, string>): Promise<string> {
  const socket: Socket = connectClient(url, {
    transports: ['websocket'],
    reconnection: false,
    ...(auth ? { auth } : {}),
  });
  return new Promise<string>((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('connect_error', (err) => resolve(err.message));
  }).finally(() => socket.close());
}

describe('API_TOKEN', () => {
  let h: WebHarness;
  let jobId: string;
  const bearer = { Authorization: `Bearer ${TOKEN}` };

  before(async () => {
    h = await startWebHarness({ apiToken: TOKEN });
    jobId = (
      await h.jobs.submit({ path: '/x', originalName: 'a.png', options: { mode: 'luma', page: 0 } })
    ).id;
    await mkdir(join(h.sharedDir, 'results'), { recursive: true });
    await writeFile(join(h.sharedDir, 'results', 'job-1.png'), 'png bytes');
  });
  after(() => h.close());

  it('is validated by the config: too short a token is refused with a sentence', () => {
    assert.throws(() => loadConfig({ API_TOKEN: 'short' }), /API_TOKEN: must be at least 16/);
    assert.equal(loadConfig({}).apiToken, undefined);
    assert.equal(loadConfig({ API_TOKEN: TOKEN }).apiToken, TOKEN);
  });

  it('refuses the API, uploads and downloads without it (401, a sentence, nothing stored)', async () => {
    for (const [path, init] of [
      ['/api/jobs', {}],
      [`/api/jobs/${jobId}`, {}],
      ['/api/cluster', {}],
      ['/download/job-1.png', {}],
      ['/upload', { method: 'POST', body: form() }],
    ] as const) {
      const res = await fetch(`${h.url}${path}`, init);
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.match(((await res.json()) as { error: string }).error, /requires an API token/);
    }
    const wrong = await fetch(`${h.url}/api/jobs`, { headers: { Authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as { error: string }).error, /not valid/);
    assert.deepEqual(await h.uploads(), []);
    assert.equal(h.jobs.submitted.length, 1);
  });

  it('accepts the bearer token on every route', async () => {
    assert.equal((await fetch(`${h.url}/api/jobs`, { headers: bearer })).status, 200);
    assert.equal((await fetch(`${h.url}/api/cluster`, { headers: bearer })).status, 200);
    const dl = await fetch(`${h.url}/download/job-1.png`, { headers: bearer });
    assert.equal(dl.status, 200);
    assert.equal(await dl.text(), 'png bytes');
    const up = await fetch(`${h.url}/upload`, { method: 'POST', body: form(), headers: bearer });
    assert.equal(up.status, 200);
  });

  it('accepts ?token= only where browsers cannot send headers (downloads, previews)', async () => {
    const q = `token=${encodeURIComponent(TOKEN)}`;
    assert.equal((await fetch(`${h.url}/download/job-1.png?${q}`)).status, 200);
    // The preview passes the token check and then finds no file: 404, not 401.
    assert.equal((await fetch(`${h.url}/api/jobs/lz1abc2d-0123abcd/preview/in?${q}`)).status, 404);
    assert.equal((await fetch(`${h.url}/api/jobs?${q}`)).status, 401);
    assert.equal((await fetch(`${h.url}/download/job-1.png?token=wrong`)).status, 401);
  });

  it('keeps probes and the static page open; /metrics on the public port needs the token', async () => {
    for (const path of ['/healthz', '/readyz', '/']) {
      assert.equal((await fetch(`${h.url}${path}`)).status, 200, path);
    }
    assert.equal((await fetch(`${h.url}/metrics`)).status, 401);
    const metrics = await fetch(`${h.url}/metrics`, { headers: bearer });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /histeq_up 1/);
  });

  it('a worker names the master only to a client with the token', async () => {
    h.role.isMaster = false;
    h.role.masterPod = 'pod-9';
    try {
      const anonymous = await fetch(`${h.url}/api/jobs`);
      assert.equal(anonymous.status, 401);
      const text = await anonymous.text();
      assert.doesNotMatch(text, /pod-9|127\.0\.0\.1:1111/, 'no master name or address');
      const page = await fetch(`${h.url}/`);
      assert.equal(page.status, 401);
      assert.doesNotMatch(await page.text(), /pod-9/);
      const holder = await fetch(`${h.url}/api/jobs`, { headers: bearer });
      assert.equal(holder.status, 503);
      const body = (await holder.json()) as { master: { pod: string } };
      assert.equal(body.master.pod, 'pod-9');
    } finally {
      h.role.isMaster = true;
      h.role.masterPod = 'pod-1';
    }
  });

  it('refuses Socket.IO without the token and accepts it in auth.token', async () => {
    assert.match(await connect(h.url), /requires an API token/);
    assert.match(await connect(h.url, { token: 'wrong' }), /not valid/);
    assert.equal(await connect(h.url, { token: TOKEN }), 'connected');
  });
});

describe('without API_TOKEN', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness();
  });
  after(() => h.close());

  it('everything stays open as before', async () => {
    assert.equal((await fetch(`${h.url}/api/jobs`)).status, 200);
    assert.equal((await fetch(`${h.url}/upload`, { method: 'POST', body: form() })).status, 200);
    assert.equal(await connect(h.url), 'connected');
  });
});
