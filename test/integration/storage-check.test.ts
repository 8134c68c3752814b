import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { loadConfig } from '../../src/config.js';
import { startTestCluster, uploadFile, type TestCluster } from '../support/cluster.js';
import { startWebHarness, type WebHarness } from '../support/web-harness.js';

/** More than any disk has: every storage check must refuse. */
const HUGE = '9000000000000000';

const png = () =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 90, g: 80, b: 70 } } })
    .png()
    .toBuffer();

/** A multipart upload sent chunked, so the web layer cannot know its size in advance. */
function postChunked(url: string, file: Buffer): Promise<{ status: number; error: string }> {
  const boundary = 'storage-test';
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n`,
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/upload`,
      {
        method: 'POST',
        headers: {
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          'Transfer-Encoding': 'chunked',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            error: (JSON.parse(text) as { error: string }).error,
          });
        });
      },
    );
    req.on('error', reject);
    req.write(body.subarray(0, 100));
    req.end(body.subarray(100));
  });
}

describe('SHARED_DIR free space (507)', () => {
  it('STORAGE_RESERVE_BYTES defaults to 0', () => {
    assert.equal(loadConfig({}).storageReserveBytes, 0);
  });

  describe('web layer: an announced size is checked before a byte is stored', () => {
    let h: WebHarness;
    before(async () => {
      h = await startWebHarness({ storageReserveBytes: Number(HUGE) });
    });
    after(() => h.close());

    it('answers 507 with a sentence; nothing is stored or submitted', async () => {
      const body = new FormData();
      body.append('image', new Blob([await png()]), 'a.png');
      const res = await fetch(`${h.url}/upload`, { method: 'POST', body });
      assert.equal(res.status, 507);
      const { error } = (await res.json()) as { error: string };
      assert.match(error, /^The shared storage has not enough free space for this upload/);
      assert.doesNotMatch(error, new RegExp(h.sharedDir));
      assert.deepEqual(await h.uploads(), []);
      assert.equal(h.jobs.submitted.length, 0);
    });

    it('refuses a resumable upload at creation with the same 507 sentence', async () => {
      const res = await fetch(`${h.url}/api/uploads`, {
        method: 'POST',
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '1000' },
      });
      assert.equal(res.status, 507);
      const { error } = (await res.json()) as { error: string };
      assert.match(error, /^The shared storage has not enough free space for this upload/);
      assert.equal(res.headers.get('location'), null);
      const stored = await readdir(join(h.sharedDir, 'resumable')).catch(() => [] as string[]);
      assert.deepEqual(stored, []);
    });
  });

  describe('job service: the decoded size is checked after the header probe', () => {
    let tc: TestCluster;
    before(async () => {
      tc = await startTestCluster({ pods: 1, env: { STORAGE_RESERVE_BYTES: HUGE } });
    });
    after(() => tc?.close());

    it('a chunked upload is refused with 507 and leaves no job and no upload behind', async () => {
      const res = await postChunked(tc.url, await png());
      assert.equal(res.status, 507, res.error);
      assert.match(res.error, /not enough free space for this image and its outputs/);
      const jobs = (await (await fetch(`${tc.url}/api/jobs`)).json()) as unknown[];
      assert.deepEqual(jobs, []);
      assert.deepEqual(await readdir(join(tc.dir, 'shared', 'uploads')), []);
      // With Content-Length known, the web layer refuses first.
      const known = await uploadFile(tc.url, await png(), 'b.png');
      assert.equal(known.status, 507);
      assert.match(String(known.body.error), /for this upload/);
    });
  });
});
