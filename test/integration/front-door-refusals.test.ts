import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrontDoor } from '../../src/local/front-door.js';
import { HttpError } from '../../src/web/http-errors.js';
import { receiveUpload } from '../../src/web/multipart.js';
import { frontDoorTo } from '../support/door-to.js';

const LIMIT = 64 * 1024;

/**
 * A master that answers before it has read the body, with the pods' own upload receiver: a
 * file over the limit is refused with 413 while the client is still sending it.
 */
async function refusingMaster(uploadsDir: string) {
  const server = http.createServer((req, res) => {
    receiveUpload(req, { uploadsDir, maxBytes: LIMIT, fileField: 'image' }).then(
      () => res.writeHead(200).end('{}'),
      (err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: (err as Error).message }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('front door: a refusal the master sends before the body ends', () => {
  let dir: string;
  let master: Awaited<ReturnType<typeof refusingMaster>>;
  let door: FrontDoor;
  let closeDoor: () => Promise<void>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'histeq-refusals-'));
    master = await refusingMaster(dir);
    ({ door, close: closeDoor } = await frontDoorTo(master.url));
  });
  after(async () => {
    await closeDoor();
    await master.close();
    await rm(dir, { recursive: true, force: true });
  });

  // Each size announced (a form of known length) and streamed (chunked, no length); 8 MB is
  // past what the socket buffers hold, so the master answers long before the client is done.
  const cases = [
    ['just over the limit', LIMIT + 1],
    ['1 MB', 1 << 20],
    ['8 MB', 8 << 20],
  ] as const;
  for (const streamed of [false, true]) {
    for (const [what, bytes] of cases) {
      it(`passes the master's 413 for a file ${what}${streamed ? ', streamed' : ''}, every time`, () =>
        refusedTenTimes(bytes, streamed));
    }
  }

  async function refusedTenTimes(bytes: number, streamed: boolean): Promise<void> {
    for (let i = 0; i < 10; i++) {
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(bytes)]), 'big.tif');
      const request = new Request(`${door.url}/upload`, { method: 'POST', body: form });
      const res = await fetch(`${door.url}/upload`, {
        method: 'POST',
        headers: { 'Content-Type': request.headers.get('Content-Type')! },
        body: streamed ? request.body : await request.arrayBuffer(),
        duplex: 'half',
        signal: AbortSignal.timeout(15_000),
      } as RequestInit).catch((err: Error) => {
        throw new Error(`attempt ${i + 1}: ${String(err.cause ?? err)}`);
      });
      const body = (await res.json()) as { error?: string };
      assert.equal(res.status, 413, `attempt ${i + 1}: ${res.status} ${body.error}`);
      assert.equal(body.error, 'The file is larger than the limit of 64 KiB (MAX_UPLOAD_BYTES).');
    }
    assert.deepEqual(await readdir(dir), [], 'nothing stored');
  }
});
