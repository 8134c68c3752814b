import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { newJobId } from '../../src/jobs/paths.js';
import type { ClusterSnapshot } from '../../src/web/deps.js';
import { bindHttp, STARTING } from '../../src/web/server.js';
import { errorOf, image, postForm, raw } from '../support/http-client.js';
import { resetHarness, startWebHarness, type WebHarness } from '../support/web-harness.js';

describe('web server', () => {
  let h: WebHarness;

  before(async () => {
    h = await startWebHarness({ maxUploadBytes: 64 * 1024 });
  });
  after(() => h.close());
  beforeEach(() => resetHarness(h));

  describe('probes and headers', () => {
    it('answers /healthz with the pod and sets the security headers', async () => {
      const res = await fetch(`${h.url}/healthz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ok: true, pod: 'pod-1' });
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('x-powered-by'), null);
    });

    it('answers /readyz from readiness()', async () => {
      assert.equal((await fetch(`${h.url}/readyz`)).status, 200);
      h.ready.ready = false;
      h.ready.reason = 'ZooKeeper session suspended';
      const res = await fetch(`${h.url}/readyz`);
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), {
        ready: false,
        pod: 'pod-1',
        reason: 'ZooKeeper session suspended',
      });
    });

    it('serves /metrics with its content type', async () => {
      const res = await fetch(`${h.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.equal(await res.text(), 'histeq_up 1\n');
    });
  });

  describe('a worker pod', () => {
    it('answers UI and API with 503 naming the master, but keeps its probes', async () => {
      Object.assign(h.role, { isMaster: false, masterPod: 'pod-1' });
      for (const path of ['/', '/api/jobs', '/api/cluster', '/download/job-1.png', '/nope']) {
        const res = await raw(h.url, path);
        assert.equal(res.status, 503, path);
        const body = JSON.parse(res.body) as { error: string; master: unknown };
        assert.equal(
          body.error,
          'This pod (pod-1) is a worker; the master is pod-1 at http://127.0.0.1:1111.',
        );
        assert.deepEqual(body.master, { pod: 'pod-1', url: 'http://127.0.0.1:1111' });
      }
      const upload = await postForm(h.url, [{ name: 'image', filename: 'a.png', data: image() }]);
      assert.equal(upload.status, 503);
      assert.deepEqual(await h.uploads(), []);
      assert.equal(h.jobs.submitted.length, 0);
      assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
    });

    it('says so when no master is known', async () => {
      Object.assign(h.role, { isMaster: false, masterPod: null, masterUrl: null });
      const res = await raw(h.url, '/api/jobs');
      assert.equal(res.status, 503);
      assert.match(errorOf(res), /is a worker and no master is elected right now/);
    });
  });

  describe('GET /download/:file', () => {
    before(async () => {
      const results = join(h.sharedDir, 'results');
      await mkdir(join(results, 'dir.png'), { recursive: true });
      await writeFile(join(results, 'job-7.png'), 'PNGDATA');
      await writeFile(join(h.sharedDir, 'secret.png'), 'SECRET');
      await symlink(join(h.sharedDir, 'secret.png'), join(results, 'job-8.png'));
    });

    it('serves a result as an attachment', async () => {
      const res = await fetch(`${h.url}/download/job-7.png`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'PNGDATA');
      assert.match(
        res.headers.get('content-disposition') ?? '',
        /^attachment; filename="?job-7\.png"?$/,
      );
      assert.equal(res.headers.get('content-type'), 'image/png');
    });

    const tricks: [string, number[]][] = [
      ['/download/..%2f..%2fetc%2fpasswd', [400]],
      ['/download/../x', [404]],
      ['/download/..%2fsecret.png', [400]],
      ['/download/%2e%2e%2fsecret.png', [400]],
      ['/download/job-8.png', [404]], // symlink out of results/
      ['/download/dir.png', [404]],
      ['/download/job-9.png', [404]],
      ['/download/job-7.exe', [400]],
      ['/download/.job-7.png', [400]],
    ];
    for (const [path, statuses] of tricks) {
      it(`refuses ${path}`, async () => {
        const res = await raw(h.url, path);
        assert.ok(statuses.includes(res.status), `${path} → ${res.status} ${res.body}`);
        assert.doesNotMatch(res.body, /SECRET|root:/);
        assert.equal(typeof errorOf(res), 'string');
        assert.equal(res.headers['content-disposition'], undefined);
      });
    }
  });

  describe('API and UI', () => {
    it('lists and reads jobs; an unknown id is a 404 sentence', async () => {
      const upload = await postForm(h.url, [{ name: 'image', filename: 'a.png', data: image() }]);
      const { job_id: id } = JSON.parse(upload.body) as { job_id: string };
      const jobs = (await (await fetch(`${h.url}/api/jobs`)).json()) as { id: string }[];
      assert.ok(jobs.some((j) => j.id === id));
      const res = await fetch(`${h.url}/api/jobs/${id}`);
      assert.equal(res.status, 200);
      const job = (await res.json()) as Record<string, unknown>;
      for (const key of ['id', 'state', 'phase', 'done', 'total']) assert.ok(key in job, key);
      const unknown = newJobId();
      const missing = await fetch(`${h.url}/api/jobs/${unknown}`);
      assert.equal(missing.status, 404);
      assert.equal(
        ((await missing.json()) as { error: string }).error,
        `There is no job with id "${unknown}".`,
      );
    });

    it('serves the cluster view', async () => {
      const body = (await (await fetch(`${h.url}/api/cluster`)).json()) as ClusterSnapshot;
      assert.equal(body.master, 'pod-1');
      assert.equal(body.pods.length, 2);
    });

    it('serves the page, its script and the Socket.IO client', async () => {
      const page = await fetch(`${h.url}/`);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /<script type="module" src="\/app\.js"><\/script>/);
      assert.doesNotMatch(html, /<script>(?!<\/script>)/, 'no inline script');
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      for (const path of ['/app.js', '/style.css', '/socket.io/socket.io.js']) {
        assert.equal((await fetch(`${h.url}${path}`)).status, 200, path);
      }
    });

    it('answers unknown routes and internal errors with JSON sentences', async () => {
      const missing = await fetch(`${h.url}/no/such/thing`);
      assert.equal(missing.status, 404);
      assert.equal(
        ((await missing.json()) as { error: string }).error,
        'There is nothing at GET /no/such/thing.',
      );
      const list = h.jobs.list;
      h.jobs.list = () => Promise.reject(new Error('boom at /internal/path'));
      try {
        const res = await fetch(`${h.url}/api/jobs`);
        assert.equal(res.status, 500);
        const text = await res.text();
        assert.doesNotMatch(text, /boom|internal\/path|\.js:\d+/);
        assert.match((JSON.parse(text) as { error: string }).error, /internal error/);
      } finally {
        h.jobs.list = list;
      }
    });
  });

  it('answers 503 with a JSON sentence while the pod is still starting', async () => {
    // The port is bound before the pod joins the cluster; a client sent there by a stale label
    // or registry entry (a restarted master) is told to retry, like any other 503.
    const server = await bindHttp(0, '127.0.0.1');
    try {
      const { port } = server.address() as { port: number };
      for (const [method, path] of [
        ['GET', '/api/jobs'],
        ['POST', '/upload'],
      ]) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
        assert.equal(res.status, 503, path);
        assert.equal(res.headers.get('retry-after'), '1');
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        assert.deepEqual(await res.json(), { error: STARTING });
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
