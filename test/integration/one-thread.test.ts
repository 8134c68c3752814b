import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { colourspaceFor, lowContrastImage, writeImage } from '../support/images.js';
import { startTestCluster, uploadFile, waitForJob, type TestCluster } from '../support/cluster.js';
import { oracleEqualize, type RawImage } from '../support/oracle.js';

/**
 * One pod with one pool thread: every kernel call of every job runs on the same thread, so any
 * state a thread keeps between jobs (tables, buffers, LUTs) is shared by all of them.
 */
let tc: TestCluster;
let fixtures: string;

before(async () => {
  fixtures = await mkdtemp(join(tmpdir(), 'one-thread-'));
  tc = await startTestCluster({ pods: 1, env: { POOL_THREADS: '1' } });
});
after(async () => {
  await tc?.close();
  await rm(fixtures, { recursive: true, force: true });
});

/** Uploads the image as an uncompressed TIFF, waits, and decodes the result's samples. */
async function equalizeThroughCluster(image: RawImage, name: string): Promise<Uint8Array> {
  const path = join(fixtures, name);
  await writeImage(image, path, 'tiff');
  const { status, body } = await uploadFile(tc.url, await readFile(path), name);
  assert.equal(status, 200, JSON.stringify(body));
  const job = await waitForJob(tc.url, body.job_id as string);
  assert.equal(job.state, 'done', job.error);
  const res = await fetch(`${tc.url}${job.url!}`);
  assert.equal(res.status, 200);
  const { data } = await sharp(Buffer.from(await res.arrayBuffer()))
    .toColourspace(colourspaceFor(image))
    .raw({ depth: image.depth === 16 ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

async function expected(image: RawImage): Promise<Uint8Array> {
  const out = await oracleEqualize(image, 'grey');
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

describe('jobs of different bit depths on one pool thread', () => {
  it('8-bit, then 16-bit, then the same 8-bit image again: each equals OpenCV', async () => {
    const grey8 = lowContrastImage(640, 480, 1, 8, 14);
    const grey16 = lowContrastImage(300, 200, 1, 16, 15);
    const want8 = await expected(grey8);
    assert.deepEqual(await equalizeThroughCluster(grey8, 'first.tif'), want8, 'first 8-bit job');
    assert.deepEqual(
      await equalizeThroughCluster(grey16, 'deep.tif'),
      await expected(grey16),
      '16-bit job',
    );
    assert.deepEqual(await equalizeThroughCluster(grey8, 'again.tif'), want8, 'second 8-bit job');
  });
});
