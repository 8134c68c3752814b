import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { CONTENT_SECURITY_POLICY } from '../../src/web/security-headers.js';
import { stalledUpload } from '../support/slow-upload.js';
import { startWebHarness, type WebHarness } from '../support/web-harness.js';

function form(fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  body.append('image', new Blob([Buffer.alloc(100, 7)]), 'a.png');
  return body;
}

describe('slow uploads (UPLOAD_IDLE_TIMEOUT_MS)', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness({ deps: { uploadIdleTimeoutMs: 1_500 } });
  });
  after(() => h.close());

  it('defaults to 60 s and is validated', () => {
    assert.equal(loadConfig({}).uploadIdleTimeoutMs, 60_000);
    assert.equal(loadConfig({ UPLOAD_IDLE_TIMEOUT_MS: '2000' }).uploadIdleTimeoutMs, 2000);
    assert.throws(() => loadConfig({ UPLOAD_IDLE_TIMEOUT_MS: '5' }), /UPLOAD_IDLE_TIMEOUT_MS/);
  });

  it('stalled bodies are dropped with their partial files; a normal upload meanwhile succeeds', async () => {
    const slow = Array.from({ length: 24 }, () => stalledUpload(h.url, 15_000));
    try {
      // Wait (bounded) until every stalled upload has its partial file: they are all in flight.
      const deadline = Date.now() + 5_000;
      while ((await h.uploads()).filter((f) => f.endsWith('.part')).length < slow.length) {
        assert.ok(Date.now() < deadline, 'the stalled uploads reached the server');
        await new Promise((r) => setTimeout(r, 50));
      }
      const started = Date.now();
      const res = await fetch(`${h.url}/upload`, { method: 'POST', body: form() });
      assert.equal(res.status, 200, 'a real user is served while the slow ones hang');
      assert.ok(Date.now() - started < 1_000, `served in ${Date.now() - started} ms`);
      const answers = await Promise.all(slow.map((s) => s.closed));
      for (const answer of answers) {
        assert.match(answer, /^HTTP\/1\.1 408/);
        assert.match(answer, /made no progress for 1\.5 s.*UPLOAD_IDLE_TIMEOUT_MS/);
      }
      const left = await readdir(join(h.sharedDir, 'uploads'));
      assert.deepEqual(
        left.filter((f) => f.endsWith('.part')),
        [],
        'no partial file is left',
      );
      assert.equal(left.length, 1, 'only the accepted upload is stored');
    } finally {
      for (const s of slow) s.socket.destroy();
    }
  });
});

describe('smaller web hardening', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness({
      deps: { allowedOrigins: ['https://histeq.example.com'], metricsPort: 0 },
    });
  });
  after(() => h.close());

  it('Socket.IO responses carry the security headers', async () => {
    for (const path of ['/socket.io/socket.io.js', '/socket.io/?EIO=4&transport=polling']) {
      const res = await fetch(`${h.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      await res.arrayBuffer();
    }
  });

  it('a form field named __proto__ is a field like any other, not "sent twice"', async () => {
    const res = await fetch(`${h.url}/upload`, { method: 'POST', body: form({ __proto__: 'x' }) });
    assert.equal(res.status, 200, await res.clone().text());
    const twice = form({ mode: 'luma' });
    twice.append('mode', 'luma');
    const refused = await fetch(`${h.url}/upload`, { method: 'POST', body: twice });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: string }).error, /"mode" was sent twice/);
  });

  it('ALLOWED_ORIGINS pins the origins Socket.IO accepts (a rebinding page matches its Host)', async () => {
    const handshake = (origin: string, host?: string) =>
      fetch(`${h.url}/socket.io/?EIO=4&transport=polling`, {
        headers: { Origin: origin, ...(host ? { Host: host } : {}) },
      }).then(async (res) => (await res.arrayBuffer(), res.status));
    assert.equal(await handshake('https://histeq.example.com'), 200);
    const { host } = new URL(h.url);
    assert.equal(await handshake(`http://${host}`), 403, 'same host, but not a pinned origin');
    assert.equal(await handshake('https://evil.example'), 403);
    assert.deepEqual(
      loadConfig({ ALLOWED_ORIGINS: 'https://a.example, http://b:8080' }).allowedOrigins,
      ['https://a.example', 'http://b:8080'],
    );
    assert.throws(() => loadConfig({ ALLOWED_ORIGINS: 'a.example/path' }), /ALLOWED_ORIGINS/);
  });

  it('METRICS_PORT serves /metrics there only, not on the public port', async () => {
    assert.ok(h.metricsUrl);
    assert.equal((await fetch(`${h.url}/metrics`)).status, 404);
    const res = await fetch(`${h.metricsUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /histeq_up 1/);
    assert.equal((await fetch(`${h.metricsUrl}/api/jobs`)).status, 404);
    assert.equal(loadConfig({ METRICS_PORT: '9090' }).metricsPort, 9090);
    assert.equal(loadConfig({}).metricsPort, undefined);
  });
});
