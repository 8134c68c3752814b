import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { startWebHarness, type WebHarness } from '../support/web-harness.js';

function upload(url: string, token?: string): Promise<Response> {
  const body = new FormData();
  body.append('image', new Blob([Buffer.alloc(100, 7)]), 'a.png');
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  return fetch(`${url}/upload`, { method: 'POST', body, headers });
}

describe('UPLOAD_RATE_PER_MINUTE with API_TOKEN', () => {
  const TOKEN = 'rate-token-0123456789abcdef';
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness({ uploadRatePerMinute: 3, apiToken: TOKEN });
  });
  after(() => h.close());

  it('clients without the token do not use up the budget of those with it', async () => {
    // Many more refused uploads than the limit, from the same address as the token holder.
    for (let i = 0; i < 12; i++) {
      const res = await upload(h.url, i % 2 ? 'wrong-token' : undefined);
      assert.equal(res.status, 401, `anonymous upload ${i}`);
    }
    for (let i = 0; i < 3; i++) assert.equal((await upload(h.url, TOKEN)).status, 200);
    // The token holder has a limit of its own all the same.
    const limited = await upload(h.url, TOKEN);
    assert.equal(limited.status, 429);
    assert.match(
      ((await limited.json()) as { error: string }).error,
      /at most 3 per minute \(UPLOAD_RATE_PER_MINUTE\)/,
    );
    assert.equal(h.jobs.submitted.length, 3);
  });
});

describe('UPLOAD_RATE_PER_MINUTE', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness({ uploadRatePerMinute: 3 });
  });
  after(() => h.close());

  it('defaults to 30 per minute and 0 turns it off', () => {
    assert.equal(loadConfig({}).uploadRatePerMinute, 30);
    assert.equal(loadConfig({ UPLOAD_RATE_PER_MINUTE: '0' }).uploadRatePerMinute, 0);
    assert.equal(loadConfig({}).trustProxy, undefined);
    assert.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1);
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: '10.0.0.0/8' }).trustProxy, '10.0.0.0/8');
  });

  it('answers 429 with a sentence and Retry-After past the limit; other routes are not limited', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await upload(h.url)).status, 200);
    const refused = await upload(h.url);
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.match(((await refused.json()) as { error: string }).error, /at most 3 per minute/);
    assert.equal(h.jobs.submitted.length, 3);
    assert.equal((await fetch(`${h.url}/api/jobs`)).status, 200);
  });
});

describe('TRUST_PROXY', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness({ uploadRatePerMinute: 1, deps: { trustProxy: 'loopback' } });
  });
  after(() => h.close());

  it('behind a trusted proxy, each forwarded client has its own budget', async () => {
    const from = (client: string) => {
      const body = new FormData();
      body.append('image', new Blob([Buffer.alloc(10, 1)]), 'a.png');
      return fetch(`${h.url}/upload`, {
        method: 'POST',
        body,
        headers: { 'X-Forwarded-For': client },
      });
    };
    assert.equal((await from('203.0.113.1')).status, 200);
    assert.equal((await from('203.0.113.1')).status, 429);
    assert.equal((await from('203.0.113.2')).status, 200);
  });
});

describe('UPLOAD_RATE_PER_MINUTE for every way in', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness({ uploadRatePerMinute: 4 });
    await mkdir(join(h.sharedDir, 'inbox'), { recursive: true });
    await writeFile(join(h.sharedDir, 'inbox', 'scan.png'), Buffer.alloc(100, 3));
  });
  after(() => h.close());

  const inbox = () =>
    fetch(`${h.url}/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ path: 'scan.png' }),
    });
  const createResumable = () =>
    fetch(`${h.url}/api/uploads`, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '100' },
    });

  it('POST /upload, inbox submissions and resumable uploads share one budget', async () => {
    assert.equal((await inbox()).status, 200);
    assert.equal((await upload(h.url)).status, 200);
    assert.equal((await createResumable()).status, 201);
    assert.equal((await inbox()).status, 200);
    for (const refused of [await inbox(), await createResumable(), await upload(h.url)]) {
      assert.equal(refused.status, 429);
      assert.match(
        ((await refused.json()) as { error: string }).error,
        /at most 4 per minute \(UPLOAD_RATE_PER_MINUTE\)/,
      );
    }
    assert.equal(h.jobs.submitted.length, 3);
    // Reading is not limited.
    assert.equal((await fetch(`${h.url}/api/jobs`)).status, 200);
  });
});
