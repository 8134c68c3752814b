import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { FrontDoor } from '../../src/local/front-door.js';
import { JOB_ID_HEADER, TUS_PATH } from '../../src/web/tus/protocol.js';
import { startWebHarness, type WebHarness } from '../support/web-harness.js';
import { frontDoorTo } from '../support/door-to.js';

describe('front door: resumable uploads (tus)', () => {
  let web: WebHarness;
  let door: FrontDoor;
  let closeDoor: () => Promise<void>;

  before(async () => {
    web = await startWebHarness();
    ({ door, close: closeDoor } = await frontDoorTo(web.url));
  });
  after(async () => {
    await closeDoor();
    await web.close();
  });

  it('passes OPTIONS, POST, PATCH and HEAD with their Upload-* headers both ways', async () => {
    const tus = { 'Tus-Resumable': '1.0.0' };
    const options = await fetch(`${door.url}${TUS_PATH}`, { method: 'OPTIONS' });
    assert.equal(options.status, 204);
    assert.match(options.headers.get('tus-extension') ?? '', /creation/);

    const data = randomBytes(300_000);
    const created = await fetch(`${door.url}${TUS_PATH}`, {
      method: 'POST',
      headers: {
        ...tus,
        'Upload-Length': String(data.length),
        'Upload-Metadata': `name ${Buffer.from('door.png').toString('base64')}`,
      },
    });
    assert.equal(created.status, 201);
    const location = created.headers.get('location');
    assert.match(location ?? '', /^\/api\/uploads\/[0-9a-f]{32}$/);
    const url = `${door.url}${location}`;
    const send = (offset: number, part: Uint8Array) =>
      fetch(url, {
        method: 'PATCH',
        headers: {
          ...tus,
          'Upload-Offset': String(offset),
          'Content-Type': 'application/offset+octet-stream',
        },
        body: part,
      });
    const first = await send(0, data.subarray(0, 100_000));
    assert.equal(first.status, 204);
    assert.equal(first.headers.get('upload-offset'), '100000');
    const head = await fetch(url, { method: 'HEAD', headers: tus });
    assert.equal(head.headers.get('upload-offset'), '100000');
    assert.equal(head.headers.get('upload-length'), String(data.length));
    assert.equal(head.headers.get('tus-resumable'), '1.0.0');
    const conflict = await send(0, data.subarray(0, 10));
    assert.equal(conflict.status, 409);
    const last = await send(100_000, data.subarray(100_000));
    assert.equal(last.status, 204);
    const jobId = last.headers.get(JOB_ID_HEADER);
    assert.ok(jobId && web.jobs.jobs.has(jobId), String(jobId));
    assert.deepEqual(await readFile(web.jobs.submitted[0]!.path), data);
    assert.equal(web.jobs.submitted[0]!.originalName, 'door.png');
  });
});
