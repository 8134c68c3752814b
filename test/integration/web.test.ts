import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { io as connectClient, type Socket } from 'socket.io-client';
import { HisteqError } from '../../src/common/errors.js';
import type { JobStatusEvent } from '../../src/jobs/types.js';
import type { ClusterSnapshot } from '../../src/web/deps.js';
import { clusterSnapshot, startWebHarness, type WebHarness } from '../support/web-harness.js';

/** Polls `condition` every 10 ms; fails after `timeoutMs`. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request with the path sent exactly as written (fetch would normalize `..`). */
function raw(
  base: string,
  path: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer[] } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      { method: options.method ?? 'GET', headers: options.headers, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.path = path;
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    for (const chunk of options.body ?? []) req.write(chunk);
    req.end();
  });
}

const BOUNDARY = 'histeq-test-boundary';

type Part = { name: string; value: string } | { name: string; filename: string; data: Buffer };

function multipart(parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition =
      'filename' in part
        ? `form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: application/octet-stream`
        : `form-data; name="${part.name}"`;
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n\r\n`));
    chunks.push('filename' in part ? part.data : Buffer.from(part.value));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

function postForm(base: string, parts: Part[], chunked = false): Promise<RawResponse> {
  const body = multipart(parts);
  const headers: http.OutgoingHttpHeaders = {
    'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
  };
  if (!chunked) headers['Content-Length'] = body.length;
  // Chunked bodies go out in pieces, so the server sees the size only while reading.
  const pieces = chunked
    ? Array.from({ length: Math.ceil(body.length / 16384) }, (_, i) =>
        body.subarray(i * 16384, (i + 1) * 16384),
      )
    : [body];
  return raw(base, '/upload', { method: 'POST', headers, body: pieces });
}

const image = (bytes = 1000) => Buffer.alloc(bytes, 7);
const errorOf = (res: RawResponse) => (JSON.parse(res.body) as { error: string }).error;

describe('web server', () => {
  let h: WebHarness;

  before(async () => {
    h = await startWebHarness({ maxUploadBytes: 64 * 1024 });
  });
  after(() => h.close());
  beforeEach(() => {
    Object.assign(h.role, {
      isMaster: true,
      masterPod: 'pod-1',
      masterUrl: 'http://127.0.0.1:1111',
    });
    h.ready.ready = true;
    h.jobs.submitted.length = 0;
    h.jobs.rejectNext = null;
  });

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

  describe('POST /upload', () => {
    it('streams the file under a server name and submits it', async () => {
      const data = image(5000);
      const res = await postForm(h.url, [
        { name: 'mode', value: 'per-channel' },
        { name: 'image', filename: '../../etc/evil name.png', data },
        { name: 'page', value: '2' },
      ]);
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(JSON.parse(res.body), { job_id: 'job-1' });
      const [request] = h.jobs.submitted;
      assert.ok(request);
      assert.equal(join(request.path, '..'), join(h.sharedDir, 'uploads'));
      assert.match(request.path, /\/[0-9a-f-]{36}\.upload$/);
      assert.equal(request.originalName, 'evil name.png');
      assert.deepEqual(request.options, { mode: 'per-channel', page: 2 });
      assert.deepEqual(await readFile(request.path), data);
      assert.deepEqual(await h.uploads(), [request.path.split('/').pop()]);
    });

    it('defaults mode to luma and page to 0 (also for blank fields)', async () => {
      const res = await postForm(h.url, [
        { name: 'page', value: '' },
        { name: 'image', filename: 'a.png', data: image() },
      ]);
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(h.jobs.submitted[0]?.options, { mode: 'luma', page: 0 });
    });

    const refusals: [string, Part[], RegExp][] = [
      ['no file', [{ name: 'mode', value: 'luma' }], /No file was sent/],
      ['another field name', [{ name: 'file', filename: 'a.png', data: image() }], /"file"/],
      [
        'two files',
        [
          { name: 'image', filename: 'a.png', data: image() },
          { name: 'image', filename: 'b.png', data: image() },
        ],
        /More than one file|exactly one file/,
      ],
      [
        'a bad mode',
        [
          { name: 'mode', value: 'sepia' },
          { name: 'image', filename: 'a.png', data: image() },
        ],
        /"mode" must be one of: luma, per-channel/,
      ],
      [
        'a negative page',
        [
          { name: 'page', value: '-1' },
          { name: 'image', filename: 'a.png', data: image() },
        ],
        /"page" must be a whole number/,
      ],
    ];
    for (const [what, parts, sentence] of refusals) {
      it(`refuses ${what} with 400 and keeps nothing`, async () => {
        const before = await h.uploads();
        const res = await postForm(h.url, parts);
        assert.equal(res.status, 400, res.body);
        assert.match(errorOf(res), sentence);
        assert.deepEqual(await h.uploads(), before);
        assert.equal(h.jobs.submitted.length, 0);
      });
    }

    it('refuses a body that is not multipart', async () => {
      const res = await raw(h.url, '/upload', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: [Buffer.from('{"image":"x"}')],
      });
      assert.equal(res.status, 400);
      assert.match(errorOf(res), /multipart\/form-data with the file in the field "image"/);
    });

    it('refuses a file over the limit with 413 while streaming, storing nothing', async () => {
      const before = await h.uploads();
      const res = await postForm(
        h.url,
        [{ name: 'image', filename: 'big.png', data: image(1024 * 1024) }],
        true,
      );
      assert.equal(res.status, 413);
      assert.equal(errorOf(res), 'The file is larger than the limit of 64 KiB (MAX_UPLOAD_BYTES).');
      assert.deepEqual(await h.uploads(), before);
      assert.equal(h.jobs.submitted.length, 0);
    });

    it('removes the partial file when the client goes away mid-upload', async () => {
      const before = await h.uploads();
      const body = multipart([{ name: 'image', filename: 'a.png', data: image(48 * 1024) }]);
      const req = http.request(`${h.url}/upload`, {
        method: 'POST',
        headers: {
          'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
          'Content-Length': body.length,
        },
      });
      req.on('error', () => {}); // the abort below is the point
      req.write(body.subarray(0, 32 * 1024));
      // Wait until the server has started the file, then vanish.
      await waitFor(async () => (await h.uploads()).length > before.length, 5_000);
      req.destroy();
      await waitFor(async () => (await h.uploads()).length === before.length, 5_000);
      assert.equal(h.jobs.submitted.length, 0);
    });

    it('refuses a declared oversize body with 413 before reading it', async () => {
      const before = await h.uploads();
      const res = await postForm(h.url, [
        { name: 'image', filename: 'big.png', data: image(512 * 1024) },
      ]);
      assert.equal(res.status, 413);
      assert.deepEqual(await h.uploads(), before);
    });

    const rejections: [string, Error, number, RegExp][] = [
      [
        'UNSUPPORTED_FORMAT',
        new HisteqError('UNSUPPORTED_FORMAT', 'GIF is not supported.'),
        415,
        /^GIF is not supported\.$/,
      ],
      ['BAD_INPUT', new HisteqError('BAD_INPUT', 'The file is truncated.'), 400, /truncated/],
      ['TOO_MANY_PIXELS', new HisteqError('TOO_MANY_PIXELS', 'Too many pixels.'), 422, /pixels/],
      ['CLUSTER_DEGRADED', new HisteqError('CLUSTER_DEGRADED', 'Only 1 pod.'), 503, /1 pod/],
      ['a plain Error', new Error('EACCES: /secret/path'), 500, /^The server could not/],
    ];
    for (const [what, err, status, sentence] of rejections) {
      it(`maps a submit rejection (${what}) to ${status} and removes the upload`, async () => {
        const before = await h.uploads();
        h.jobs.rejectNext = err;
        const res = await postForm(h.url, [{ name: 'image', filename: 'a.gif', data: image() }]);
        assert.equal(res.status, status);
        assert.match(errorOf(res), sentence);
        assert.doesNotMatch(res.body, /secret|at .*\.js/);
        assert.deepEqual(await h.uploads(), before);
      });
    }
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
      const jobs = (await (await fetch(`${h.url}/api/jobs`)).json()) as { id: string }[];
      assert.ok(jobs.some((j) => j.id === 'job-1'));
      const res = await fetch(`${h.url}/api/jobs/job-1`);
      assert.equal(res.status, 200);
      const job = (await res.json()) as Record<string, unknown>;
      for (const key of ['id', 'state', 'phase', 'done', 'total']) assert.ok(key in job, key);
      const missing = await fetch(`${h.url}/api/jobs/job-404`);
      assert.equal(missing.status, 404);
      assert.equal(
        ((await missing.json()) as { error: string }).error,
        'There is no job with id "job-404".',
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

  describe('Socket.IO', () => {
    const clients: Socket[] = [];
    after(() => clients.forEach((c) => c.close()));

    function client(): Socket {
      const socket = connectClient(h.url, { transports: ['websocket'], reconnection: false });
      clients.push(socket);
      return socket;
    }

    function next<T>(socket: Socket, event: string, timeoutMs = 5_000): Promise<T> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${event} in ${timeoutMs} ms`)),
          timeoutMs,
        );
        socket.once(event, (value: T) => {
          clearTimeout(timer);
          resolve(value);
        });
      });
    }

    it('gives a late client the cluster and every latest job_status, then live events', async () => {
      const socket = client();
      const statuses: JobStatusEvent[] = [];
      socket.on('job_status', (s: JobStatusEvent) => statuses.push(s));
      const cluster = await next<ClusterSnapshot>(socket, 'cluster');
      assert.equal(cluster.master, 'pod-1');
      const expected = h.jobs.latest().map((s) => s.id);
      assert.ok(expected.length > 0);
      await waitFor(async () => statuses.length >= expected.length, 5_000);
      assert.deepEqual(
        statuses.map((s) => s.id),
        expected,
      );

      const live = next<JobStatusEvent>(socket, 'job_status');
      const event: JobStatusEvent = {
        id: 'job-1',
        name: 'a.png',
        state: 'done',
        phase: 'stitching',
        done: 4,
        total: 4,
        msg: 'done',
        url: '/download/job-1.png',
      };
      h.events.emit('job_status', event);
      assert.deepEqual(await live, event);
      const alert = next(socket, 'cluster_alert');
      h.events.emit('cluster_alert', { status: 'degraded', message: 'Only 1 pod.' });
      assert.deepEqual(await alert, { status: 'degraded', message: 'Only 1 pod.' });
      const log = next(socket, 'node_log');
      h.events.emit('node_log', { pod: 'pod-2', log: 'hello' });
      assert.deepEqual(await log, { pod: 'pod-2', log: 'hello' });
    });

    it('drops its browsers when this pod stops being master', async () => {
      const socket = client();
      await next(socket, 'cluster');
      const gone = next<string>(socket, 'disconnect');
      Object.assign(h.role, { isMaster: false, masterPod: 'pod-2', masterUrl: 'http://x:1' });
      h.events.emit('cluster', { ...clusterSnapshot(), master: 'pod-2' });
      assert.equal(await gone, 'io server disconnect');
    });

    it('is refused by a worker with the master named', async () => {
      Object.assign(h.role, { isMaster: false, masterPod: 'pod-2', masterUrl: 'http://x:1' });
      const err = await next<Error & { data?: unknown }>(client(), 'connect_error');
      assert.equal(err.message, 'This pod (pod-1) is a worker; the master is pod-2 at http://x:1.');
      assert.deepEqual(err.data, { master: { pod: 'pod-2', url: 'http://x:1' } });
    });
  });
});
