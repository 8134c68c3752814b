import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decompressionBombPng, tagAmplificationTiff } from '../support/hostile-images.js';
import { lowContrastImage, rng, writeImage } from '../support/images.js';
import {
  downloadGrey,
  startTestCluster,
  uploadFile,
  waitForJob,
  type TestCluster,
} from '../support/cluster.js';
import { oracleEqualize } from '../support/oracle.js';

let tc: TestCluster;
let dir: string;
const seeds: { name: string; bytes: Buffer }[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fuzz-'));
  const make = async (
    name: string,
    w: number,
    h: number,
    ch: 1 | 3 | 4,
    depth: 8 | 16,
    format: 'tiff' | 'png' | 'jpeg',
    compression?: 'none' | 'lzw' | 'deflate',
  ) => {
    const path = join(dir, name);
    await writeImage(lowContrastImage(w, h, ch, depth, seeds.length + 1), path, format, {
      compression,
    });
    seeds.push({ name, bytes: await readFile(path) });
  };
  await make('a.tif', 64, 48, 1, 8, 'tiff', 'none');
  await make('b.tif', 40, 30, 3, 8, 'tiff', 'lzw');
  await make('c.tif', 32, 32, 1, 16, 'tiff', 'deflate');
  await make('d.png', 48, 40, 4, 8, 'png');
  await make('e.jpg', 64, 48, 3, 8, 'jpeg');
  tc = await startTestCluster({
    pods: 3,
    env: { MAX_PIXELS: '4000000', MAX_DECODED_BYTES: String(16 << 20) },
  });
});
after(async () => {
  await tc?.close();
  await rm(dir, { recursive: true, force: true });
});

/** IFD0 entries of a little- or big-endian classic TIFF: tag → offset of its value field. */
function tiffValueFields(bytes: Buffer): Map<number, { at: number; type: number }> {
  const le = bytes.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? bytes.readUInt16LE(o) : bytes.readUInt16BE(o));
  const u32 = (o: number) => (le ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o));
  const fields = new Map<number, { at: number; type: number }>();
  const ifd = u32(4);
  if (ifd + 2 > bytes.length) return fields;
  const count = u16(ifd);
  for (let i = 0; i < count && ifd + 2 + 12 * (i + 1) <= bytes.length; i++) {
    const e = ifd + 2 + 12 * i;
    fields.set(u16(e), { at: e + 8, type: u16(e + 2) });
  }
  return fields;
}

/** One mutant of a seed: byte flips, truncation, lying header fields, garbage, or noise. */
function mutate(seed: Buffer, random: () => number): Buffer {
  const out = Buffer.from(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const kind = pick(6);
  if (kind === 0) {
    for (let i = 0, n = 1 + pick(20); i < n; i++) out[pick(out.length)] = pick(256);
    return out;
  }
  if (kind === 1) return out.subarray(0, pick(out.length));
  if (kind === 2 && out.toString('latin1', 0, 2) === 'II') {
    // Lying TIFF header: width, height, bits, strip offsets or byte counts set to odd values.
    const fields = tiffValueFields(out);
    const tags = [256, 257, 258, 273, 277, 279].filter((t) => fields.has(t));
    const f = fields.get(tags[pick(tags.length)]);
    const value = [0, 1, 0xffff, 0x7fffffff, 0xffffffff, pick(1 << 20)][pick(6)];
    if (f) {
      if (f.type === 3) out.writeUInt16LE(value & 0xffff, f.at);
      else out.writeUInt32LE(value >>> 0, f.at);
    }
    return out;
  }
  if (kind === 3 && out.toString('latin1', 1, 4) === 'PNG') {
    // Lying PNG dimensions in IHDR (offsets 16 and 20): huge, zero or swapped.
    out.writeUInt32BE([0, 1, 100_000, 0x7fffffff][pick(4)], 16 + 4 * pick(2));
    return out;
  }
  if (kind === 4)
    return Buffer.concat([out, Buffer.from(Array.from({ length: pick(500) }, () => pick(256)))]);
  return Buffer.from(Array.from({ length: pick(2000) }, () => pick(256)));
}

describe('fuzzing the upload path', () => {
  it('200 mutated images are each refused (4xx) or processed; no pod restarts; a good job stays exact', async () => {
    const pidsBefore = tc.cluster.pods.map((p) => p.pid);
    const random = rng(20261121);
    const outcomes = { refused: 0, done: 0, failed: 0 };
    const jobs: string[] = [];
    for (let batch = 0; batch < 50; batch++) {
      const results = await Promise.all(
        Array.from({ length: 4 }, async (_, i) => {
          const seed = seeds[(batch * 4 + i) % seeds.length];
          const bytes = mutate(seed.bytes, random);
          const res = await uploadFile(tc.url, bytes, `fuzz-${batch}-${i}-${seed.name}`);
          return { res, seed: seed.name };
        }),
      );
      for (const { res, seed } of results) {
        assert.ok(
          res.status === 200 || (res.status >= 400 && res.status < 500),
          `${seed} mutant answered ${res.status}: ${JSON.stringify(res.body)}`,
        );
        if (res.status === 200) jobs.push(res.body.job_id as string);
        else {
          outcomes.refused++;
          assert.match(String(res.body.error), /^[A-Z].*\.$/, 'a sentence');
        }
      }
    }
    for (const id of jobs) {
      const job = await waitForJob(tc.url, id, 60_000);
      outcomes[job.state === 'done' ? 'done' : 'failed']++;
      if (job.state === 'failed')
        assert.ok(job.error && job.error.length > 10, 'failed with a reason');
    }
    console.log(`fuzz outcomes: ${JSON.stringify(outcomes)}`);
    assert.equal(outcomes.refused + outcomes.done + outcomes.failed, 200);
    assert.deepEqual(
      tc.cluster.pods.map((p) => p.pid),
      pidsBefore,
      'no pod restarted',
    );
    assert.ok(tc.cluster.pods.every((p) => p.restarts === 0));

    // The cluster still computes exact results afterwards.
    const image = lowContrastImage(120, 90, 1, 8, 777);
    const path = join(dir, 'good.png');
    await writeImage(image, path, 'png');
    const res = await uploadFile(tc.url, await readFile(path), 'good.png');
    assert.equal(res.status, 200);
    const job = await waitForJob(tc.url, res.body.job_id as string);
    assert.equal(job.state, 'done');
    assert.deepEqual(await downloadGrey(tc.url, job.url!), await oracleEqualize(image, 'grey'));
  });

  it('hostile files within the limits: tag amplification and a decompression bomb', async () => {
    const pidsBefore = tc.cluster.pods.map((p) => p.pid);
    const image = lowContrastImage(80, 64, 1, 8, 4242);
    const amplified = tagAmplificationTiff(80, 64, image.data as Uint8Array, 5_000, 1 << 20);
    const res = await uploadFile(tc.url, amplified, 'amplified.tif');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const job = await waitForJob(tc.url, res.body.job_id as string);
    assert.equal(job.state, 'done', job.error);
    assert.deepEqual(await downloadGrey(tc.url, job.url!), await oracleEqualize(image, 'grey'));

    // Within MAX_PIXELS (3.6 M), over MAX_DECODED_BYTES (28 MB of 16-bit RGBA).
    const bomb = await uploadFile(tc.url, await decompressionBombPng(1900, 1900), 'bomb.png');
    assert.equal(bomb.status, 422);
    assert.match(String(bomb.body.error), /MAX_DECODED_BYTES/);
    assert.deepEqual(
      tc.cluster.pods.map((p) => p.pid),
      pidsBefore,
      'no pod restarted',
    );
  });
});
