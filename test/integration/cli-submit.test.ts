import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TOKEN_WRONG } from '../../src/web/auth.js';
import { startTestCluster, uploadFile, waitForJob, type TestCluster } from '../support/cluster.js';
import { pngHeaderOnly } from '../support/hostile-images.js';
import { lowContrastImage, writeImage } from '../support/images.js';
import { runHisteq } from '../support/cli-run.js';

const TOKEN = 'cli-submit-token';
const auth = { Authorization: `Bearer ${TOKEN}` };
let tc: TestCluster;
let dir: string;

before(async () => {
  [tc, dir] = await Promise.all([
    startTestCluster({ pods: 2, env: { API_TOKEN: TOKEN } }),
    mkdtemp(join(tmpdir(), 'cli-submit-')),
  ]);
});
after(async () => {
  await Promise.all([tc?.close(), rm(dir, { recursive: true, force: true })]);
});

const histeq = runHisteq;

/** One line on stderr, no stack trace. */
function assertOneSentence(stderr: string): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

describe('histeq submit', () => {
  it('uploads a TIFF and downloads the same bytes `histeq equalize` writes', async () => {
    const input = join(dir, 'scan.tif');
    await writeImage(lowContrastImage(301, 257, 1, 16, 7), input, 'tiff');
    const reference = join(dir, 'reference.tif');
    const local = await histeq(['equalize', input, reference]);
    assert.equal(local.code, 0, local.stderr);

    const out = join(dir, 'chosen.tif');
    const run = await histeq(['submit', input, '--server', tc.url, '--token', TOKEN, '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /job \S+/);
    assert.deepEqual(await readFile(out), await readFile(reference));

    // Without --out the result lands beside the input; the token may come from API_TOKEN.
    const again = await histeq(['submit', input, '--server', tc.url], { API_TOKEN: TOKEN });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await readFile(join(dir, 'scan.equalized.tif')), await readFile(reference));
  });

  it('passes CLAHE options through to the job', async () => {
    const input = join(dir, 'clahe.png');
    await writeImage(lowContrastImage(200, 160, 3, 8, 11), input, 'png');
    const args = [
      '--mode',
      'per-channel',
      '--method',
      'clahe',
      '--clip-limit',
      '3',
      '--tiles',
      '4x2',
    ];
    const reference = join(dir, 'clahe-reference.png');
    const local = await histeq(['equalize', input, reference, ...args]);
    assert.equal(local.code, 0, local.stderr);
    const run = await histeq(['submit', input, '--server', tc.url, ...args], { API_TOKEN: TOKEN });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await readFile(join(dir, 'clahe.equalized.png')), await readFile(reference));
  });

  it("exits 1 with the server's sentence when the file is refused", async () => {
    const input = join(dir, 'notes.tif');
    await writeFile(input, 'these are notes, not an image\n');
    const direct = await uploadFile(tc.url, await readFile(input), 'notes.tif', {}, auth);
    assert.equal(direct.status, 415);
    const run = await histeq(['submit', input, '--server', tc.url, '--token', TOKEN]);
    assert.equal(run.code, 1);
    assert.ok(run.stderr.includes(String(direct.body.error)), run.stderr);
    assertOneSentence(run.stderr);
  });

  it("exits 1 with the job's sentence when the job fails", async () => {
    // A header that probes fine over rows that are not there: the job fails while decoding.
    const input = join(dir, 'rows-missing.png');
    await writeFile(input, pngHeaderOnly(64, 64));
    const run = await histeq(['submit', input, '--server', tc.url, '--token', TOKEN]);
    assert.equal(run.code, 1, run.stdout);
    assertOneSentence(run.stderr);
    const id = /Job (\S+) failed/.exec(run.stderr)?.[1];
    assert.ok(id, run.stderr);
    const job = await waitForJob(tc.url, id, 10_000, auth);
    assert.equal(job.state, 'failed');
    assert.ok(job.error && run.stderr.includes(job.error), run.stderr);
  });

  it('exits 1 with a sentence for a wrong token and for an unreachable server', async () => {
    const input = join(dir, 'small.tif');
    await writeImage(lowContrastImage(64, 48, 1, 8, 5), input, 'tiff');
    const wrong = await histeq(['submit', input, '--server', tc.url, '--token', 'not-it']);
    assert.equal(wrong.code, 1);
    assert.ok(wrong.stderr.includes(TOKEN_WRONG), wrong.stderr);
    assert.match(wrong.stderr, /--token or API_TOKEN/);
    assertOneSentence(wrong.stderr);

    const closed = await histeq(['submit', input, '--server', 'http://127.0.0.1:9']);
    assert.equal(closed.code, 1);
    assert.match(closed.stderr, /Cannot reach the cluster at http:\/\/127\.0\.0\.1:9/);
    assertOneSentence(closed.stderr);
  });
});

describe('POST /api/jobs from the inbox', () => {
  async function submitInbox(body: unknown, headers: Record<string, string> = auth) {
    const res = await fetch(`${tc.url}/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('runs a file placed in the inbox and leaves it there after the job is deleted', async () => {
    const inbox = join(tc.dir, 'shared', 'inbox');
    await mkdir(join(inbox, 'big'), { recursive: true });
    const image = join(inbox, 'big', 'scan.tif');
    await writeImage(lowContrastImage(240, 180, 1, 8, 9), image, 'tiff');
    const before = await readFile(image);
    const reference = join(dir, 'inbox-reference.tif');
    assert.equal((await histeq(['equalize', image, reference])).code, 0);

    const accepted = await submitInbox({ path: 'big/scan.tif', mode: 'luma' });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    const id = String(accepted.body.job_id);
    const job = await waitForJob(tc.url, id, 60_000, auth);
    assert.equal(job.state, 'done', job.error);
    const result = await fetch(`${tc.url}${job.url}`, { headers: auth });
    assert.deepEqual(Buffer.from(await result.arrayBuffer()), await readFile(reference));

    const removed = await fetch(`${tc.url}/api/jobs/${id}`, { method: 'DELETE', headers: auth });
    assert.equal(removed.status, 204);
    assert.deepEqual(await readFile(image), before);
    assert.ok((await stat(image)).isFile());
  });

  it('refuses paths that leave the inbox, missing files and non-images with sentences', async () => {
    const inbox = join(tc.dir, 'shared', 'inbox');
    await mkdir(join(inbox, 'folder'), { recursive: true });
    const outside = join(tc.dir, 'shared', 'secret.tif');
    await writeImage(lowContrastImage(32, 32, 1, 8, 1), outside, 'tiff');
    await symlink(outside, join(inbox, 'out.tif')).catch(() => undefined);
    await copyFile(outside, join(inbox, 'inside.tif'));
    await symlink(join(inbox, 'inside.tif'), join(inbox, 'alias.tif')).catch(() => undefined);
    await writeFile(join(inbox, 'notes.tif'), 'not an image\n');
    const cases: { body: unknown; status: number; says: RegExp }[] = [
      { body: { path: '../secret.tif' }, status: 400, says: /stay inside the inbox/ },
      { body: { path: 'folder/../../secret.tif' }, status: 400, says: /stay inside the inbox/ },
      { body: { path: outside }, status: 400, says: /relative to the inbox/ },
      { body: { path: 'out.tif' }, status: 400, says: /leads out of the inbox/ },
      { body: { path: 'missing.tif' }, status: 404, says: /no file "missing.tif" in the inbox/ },
      { body: { path: 'folder' }, status: 400, says: /not a regular file/ },
      { body: { path: '.' }, status: 400, says: /not a regular file/ },
      { body: {}, status: 400, says: /"path" must name a file/ },
      { body: ['inside.tif'], status: 400, says: /JSON object/ },
      { body: { path: 'inside.tif', mode: 'sepia' }, status: 400, says: /"mode" must be one of/ },
    ];
    for (const c of cases) {
      const answer = await submitInbox(c.body);
      assert.equal(answer.status, c.status, JSON.stringify(c));
      assert.match(String(answer.body.error), c.says, JSON.stringify(answer.body));
    }
    // The same probe as an upload, with the same sentence.
    const notes = await readFile(join(inbox, 'notes.tif'));
    const upload = await uploadFile(tc.url, notes, 'notes.tif', {}, auth);
    const inboxed = await submitInbox({ path: 'notes.tif' });
    assert.equal(inboxed.status, upload.status);
    assert.equal(inboxed.body.error, upload.body.error);
    // Token-protected like the rest of /api.
    const anonymous = await submitInbox({ path: 'inside.tif' }, {});
    assert.equal(anonymous.status, 401);
    // A symlink that stays inside the inbox is its target.
    const alias = await submitInbox({ path: 'alias.tif' });
    assert.equal(alias.status, 200, JSON.stringify(alias.body));
    assert.equal((await waitForJob(tc.url, String(alias.body.job_id), 60_000, auth)).state, 'done');
  });
});
