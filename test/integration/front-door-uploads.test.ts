import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FrontDoor } from '../../src/local/front-door.js';
import { frontDoorTo } from '../support/door-to.js';

/**
 * A master that dies in the middle of an upload: the stand-in reads the first megabyte of the
 * body and then drops the connection, as a pod killed with SIGKILL does.
 */
async function dyingMaster(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') {
      // A download the master dies in the middle of: headers and a first part, then gone.
      res.writeHead(200, { 'Content-Type': 'image/tiff', 'Content-Length': String(8 << 20) });
      res.write(Buffer.alloc(1 << 20));
      setTimeout(() => req.socket.destroy(), 50);
      return;
    }
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > 1 << 20) req.socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('front door: a request whose master dies', () => {
  let master: Awaited<ReturnType<typeof dyingMaster>>;
  let door: FrontDoor;
  let closeDoor: () => Promise<void>;

  before(async () => {
    master = await dyingMaster();
    ({ door, close: closeDoor } = await frontDoorTo(master.url, { cacheMs: 50 }));
  });
  after(async () => {
    await closeDoor();
    await master.close();
  });

  it('the client gets a 503 with a sentence promptly, not a reset or a hang', async () => {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(16 << 20)]), 'big.tif');
    const started = Date.now();
    const res = await fetch(`${door.url}/upload`, {
      method: 'POST',
      body: form,
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { error?: string };
    assert.equal(res.status, 503);
    assert.match(body.error ?? '', /^The master pod-1 .* did not answer .*\.$/);
    assert.ok(Date.now() - started < 5_000, `answered after ${Date.now() - started} ms`);
  });

  it('a download cut off by the master ends in an error for the client, not a hang', async () => {
    const res = await fetch(`${door.url}/download/x.tif`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200);
    const started = Date.now();
    await assert.rejects(res.arrayBuffer(), (err: Error) => {
      assert.doesNotMatch(String(err), /timeout|aborted due to/i, 'ended by the door, not by us');
      return true;
    });
    assert.ok(Date.now() - started < 5_000, `cut after ${Date.now() - started} ms`);
  });
});
