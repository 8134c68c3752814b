import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  downloadGrey,
  startTestCluster,
  uploadFile,
  waitForJob,
  type TestCluster,
} from '../support/cluster.js';
import { decompressionBombPng, tagAmplificationTiff } from '../support/hostile-images.js';
import { lowContrastImage, writeImage } from '../support/images.js';
import { oracleEqualize } from '../support/oracle.js';
import { stalledUpload } from '../support/slow-upload.js';

/**
 * Attacks on a real cluster with API_TOKEN set: after each one, no pod has restarted and a
 * normal job still comes out exact.
 */
const TOKEN = 'attack-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${TOKEN}` };
const MAX_PIXELS = 4_000_000;
const MAX_DECODED_BYTES = 16 << 20;

let tc: TestCluster;
let pidsBefore: (number | undefined)[];
let seed = 100;

before(async () => {
  tc = await startTestCluster({
    pods: 3,
    env: {
      API_TOKEN: TOKEN,
      // Room for every upload with the token below (the stalled ones count too), not for the
      // anonymous ones as well: those must not count.
      UPLOAD_RATE_PER_MINUTE: '20',
      UPLOAD_IDLE_TIMEOUT_MS: '1500',
      MAX_PIXELS: String(MAX_PIXELS),
      MAX_DECODED_BYTES: String(MAX_DECODED_BYTES),
    },
  });
  pidsBefore = tc.cluster.pods.map((p) => p.pid);
});
after(() => tc?.close());

/** No pod restarted, and a fresh grey PNG is equalized exactly (against the oracle). */
async function clusterStillExact(): Promise<void> {
  assert.deepEqual(
    tc.cluster.pods.map((p) => p.pid),
    pidsBefore,
    'no pod restarted',
  );
  assert.ok(tc.cluster.pods.every((p) => p.restarts === 0));
  const image = lowContrastImage(96, 64, 1, 8, seed++);
  const path = join(tc.dir, `normal-${seed}.png`);
  await writeImage(image, path, 'png');
  const res = await uploadFile(tc.url, await readFile(path), 'normal.png', {}, auth);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const job = await waitForJob(tc.url, res.body.job_id as string, 60_000, auth);
  assert.equal(job.state, 'done', job.error);
  assert.deepEqual(await downloadGrey(tc.url, job.url!, auth), await oracleEqualize(image, 'grey'));
}

describe('attacks on a cluster with API_TOKEN', () => {
  it('tag amplification: 5,000 tags of 2^20 values over one shared 1 MiB blob', async () => {
    const image = lowContrastImage(80, 64, 1, 8, 5);
    const bytes = tagAmplificationTiff(80, 64, image.data as Uint8Array, 5_000, 1 << 20);
    const res = await uploadFile(tc.url, bytes, 'amplified.tif', {}, auth);
    // Only the tags that matter are read: it is a valid 80×64 image, equalized like any other.
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const job = await waitForJob(tc.url, res.body.job_id as string, 60_000, auth);
    assert.equal(job.state, 'done', job.error);
    assert.deepEqual(
      await downloadGrey(tc.url, job.url!, auth),
      await oracleEqualize(image, 'grey'),
    );
    await clusterStillExact();
  });

  it('a decompression bomb within the pixel limit is refused from its header', async () => {
    // 1900² = 3.6 M pixels (under MAX_PIXELS), decoding to 28 MB of 16-bit RGBA.
    const bomb = await decompressionBombPng(1900, 1900);
    const res = await uploadFile(tc.url, bomb, 'bomb.png', {}, auth);
    assert.equal(res.status, 422);
    assert.match(String(res.body.error), /^The image decodes to .*\(MAX_DECODED_BYTES\)\.$/);
    await clusterStillExact();
  });

  it('slow bodies are dropped with their partial files while a normal job runs', async () => {
    const slow = Array.from({ length: 8 }, () => stalledUpload(tc.url, 20_000, auth));
    try {
      await clusterStillExact();
      const answers = await Promise.all(slow.map((s) => s.closed));
      for (const answer of answers) assert.match(answer, /408/);
    } finally {
      for (const s of slow) s.socket.destroy();
    }
    const uploads = await readdir(join(tc.dir, 'shared', 'uploads'));
    assert.deepEqual(
      uploads.filter((f) => f.endsWith('.part')),
      [],
    );
  });

  it('uploads without the token do not use up the upload budget of token holders', async () => {
    const image = Buffer.alloc(64, 1);
    for (let i = 0; i < 30; i++) {
      const res = await uploadFile(tc.url, image, `anon-${i}.png`);
      assert.equal(res.status, 401, `anonymous upload ${i}`);
    }
    await clusterStillExact();
  });
});
