import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TUS_PATH } from '../../src/web/tus/protocol.js';
import { eventually } from '../support/cluster.js';
import { startWebHarness, type WebHarness } from '../support/web-harness.js';

const tus = { 'Tus-Resumable': '1.0.0' };

describe('resumable uploads on one server', () => {
  let h: WebHarness;
  before(async () => {
    h = await startWebHarness({
      deps: { uploadIdleTimeoutMs: 1500, resumableUploadExpiryMs: 3000 },
    });
  });
  after(() => h.close());

  const dir = () => join(h.sharedDir, 'resumable');
  async function create(size: number): Promise<{ url: string; id: string }> {
    const res = await fetch(`${h.url}${TUS_PATH}`, {
      method: 'POST',
      headers: { ...tus, 'Upload-Length': String(size) },
    });
    assert.equal(res.status, 201);
    const url = new URL(res.headers.get('location')!, h.url).toString();
    return { url, id: url.split('/').pop()! };
  }
  const offsetOf = async (url: string) =>
    Number((await fetch(url, { method: 'HEAD', headers: tus })).headers.get('upload-offset'));

  it('GET …/job makes the job of an upload completed without one, exactly once', async () => {
    const data = Buffer.from('all bytes reached the volume, then the master died');
    const { url, id } = await create(data.length);
    // The bytes are on the shared volume, as a master killed before its answer leaves them.
    await writeFile(join(dir(), id), data);
    const before = h.jobs.submitted.length;
    const [a, b] = await Promise.all([fetch(`${url}/job`), fetch(`${url}/job`)]);
    const [ja, jb] = (await Promise.all([a.json(), b.json()])) as { job_id: string }[];
    assert.equal(a.status, 200);
    assert.deepEqual(ja, jb);
    assert.equal(h.jobs.submitted.length, before + 1);
    assert.deepEqual(await readFile(h.jobs.submitted.at(-1)!.path), data);
    assert.deepEqual(await (await fetch(`${url}/job`)).json(), ja);

    const partial = await create(100);
    assert.equal((await fetch(`${partial.url}/job`)).status, 409);
    assert.equal((await fetch(`${h.url}${TUS_PATH}/${'0'.repeat(32)}/job`)).status, 404);
  });

  it('drops a stalled transfer, keeps its bytes for the resume, and expires the idle upload', async () => {
    const { url, id } = await create(1000);
    const target = new URL(url);
    const socket = connect(Number(target.port), target.hostname);
    socket.on('error', () => undefined);
    socket.write(
      `PATCH ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nTus-Resumable: 1.0.0\r\n` +
        'Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n' +
        `Content-Length: 1000\r\n\r\n${'x'.repeat(300)}`,
    );
    const started = Date.now();
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const after = Date.now() - started;
    assert.ok(after >= 1000 && after < 5000, `dropped after ${after} ms`);
    assert.equal(await offsetOf(url), 300);

    // No byte for UPLOAD_RESUME_EXPIRY_MS: the master's sweep removes it.
    await eventually(
      'the idle upload removed',
      async () => !(await readdir(dir())).some((name) => name.startsWith(id)),
      15_000,
      200,
    );
    assert.equal((await fetch(url, { method: 'HEAD', headers: tus })).status, 404);
  });
});
