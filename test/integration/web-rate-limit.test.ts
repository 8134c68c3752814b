import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { startWebHarness, type WebHarness } from '../support/web-harness.js';

function upload(url: string): Promise<Response> {
  const body = new FormData();
  body.append('image', new Blob([Buffer.alloc(100, 7)]), 'a.png');
  return fetch(`${url}/upload`, { method: 'POST', body });
}

describe('UPLOAD_RATE_PER_MINUTE', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness({ uploadRatePerMinute: 3 });
  });
  after(() => h.close());

  it('defaults to 30 per minute and 0 turns it off', () => {
    assert.equal(loadConfig({}).uploadRatePerMinute, 30);
    assert.equal(loadConfig({ UPLOAD_RATE_PER_MINUTE: '0' }).uploadRatePerMinute, 0);
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
