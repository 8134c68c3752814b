import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Server as SocketServer } from 'socket.io';
import { io as connectClient, type Socket } from 'socket.io-client';
import { freePort } from '../../src/local/free-port.js';
import { FrontDoor } from '../../src/local/front-door.js';
import { testLogger } from '../support/zk.js';

/** A tiny real upstream: HTTP answers name it, and Socket.IO greets with its name. */
interface Upstream {
  name: string;
  url: string;
  /** Reasons of the server-side disconnects so far. */
  disconnects: string[];
  close(): Promise<void>;
}

async function startUpstream(name: string): Promise<Upstream> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          upstream: name,
          method: req.method,
          path: req.url,
          forwardedFor: req.headers['x-forwarded-for'] ?? null,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
  });
  const io = new SocketServer(server);
  const disconnects: string[] = [];
  io.on('connection', (socket) => {
    socket.on('disconnect', (reason) => disconnects.push(reason));
    socket.emit('hello', name);
    socket.on('echo', (text: string, ack: (reply: string) => void) => ack(`${name}:${text}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    disconnects,
    close: () => new Promise((resolve) => void io.close(() => resolve())),
  };
}

/** Written like the local labeler does: a temp file renamed into place. */
async function nameMaster(registry: string, pod: string, url: string): Promise<void> {
  const record = { pod, url, pid: process.pid, since: new Date().toISOString() };
  await writeFile(`${registry}.tmp`, JSON.stringify(record));
  await rename(`${registry}.tmp`, registry);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

/** Connects a real Socket.IO client over WebSocket only, and resolves with the greeting. */
function greet(url: string, sockets: Socket[]): Promise<{ socket: Socket; hello: string }> {
  const socket = connectClient(url, { transports: ['websocket'], reconnection: false });
  sockets.push(socket);
  return withTimeout(
    new Promise((resolve, reject) => {
      socket.once('hello', (hello: string) => resolve({ socket, hello }));
      socket.once('connect_error', reject);
    }),
    5_000,
    'socket.io greeting',
  );
}

/** A raw WebSocket handshake, to see the front door's own answer when it has no master. */
function rawUpgrade(url: string): Promise<{ status: number; body: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request(`${url}/socket.io/?EIO=4&transport=websocket`, {
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        },
      });
      req.on('upgrade', () => reject(new Error('unexpected upgrade')));
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    }),
    5_000,
    'raw upgrade',
  );
}

describe('front door', () => {
  let dir: string;
  let registry: string;
  let a: Upstream;
  let b: Upstream;
  let door: FrontDoor;
  const sockets: Socket[] = [];
  const logger = testLogger('front-door', 'front-door');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'histeq-door-'));
    registry = join(dir, 'master.json');
    [a, b] = await Promise.all([startUpstream('A'), startUpstream('B')]);
    door = await FrontDoor.start({ registryPath: registry, port: 0, cacheMs: 50, logger });
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    await door.close();
    await Promise.all([a.close(), b.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 with a sentence while no master is named', async () => {
    const res = await fetch(`${door.url}/api/jobs`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    const body = (await res.json()) as { error: string };
    assert.match(body.error, /No master has been elected yet/);
    const upgrade = await rawUpgrade(door.url);
    assert.equal(upgrade.status, 503);
    assert.match(upgrade.body, /No master has been elected yet/);
  });

  it('proxies HTTP (with bodies) and WebSockets to the named master', async () => {
    await nameMaster(registry, 'pod-1', a.url);
    await new Promise((resolve) => setTimeout(resolve, 60)); // past the cache
    const get = (await (await fetch(`${door.url}/api/jobs?x=1`)).json()) as Record<string, unknown>;
    assert.equal(get.upstream, 'A');
    assert.equal(get.path, '/api/jobs?x=1');
    assert.equal(get.forwardedFor, '127.0.0.1');
    const post = await fetch(`${door.url}/upload`, { method: 'POST', body: 'payload' });
    assert.deepEqual(
      { ...((await post.json()) as Record<string, unknown>), forwardedFor: null },
      { upstream: 'A', method: 'POST', path: '/upload', forwardedFor: null, body: 'payload' },
    );
    const { socket, hello } = await greet(door.url, sockets);
    assert.equal(hello, 'A');
    assert.equal(socket.io.engine.transport.name, 'websocket');
    const reply = await withTimeout(socket.emitWithAck('echo', 'hi'), 5_000, 'echo');
    assert.equal(reply, 'A:hi');
  });

  it('follows the registry when the master changes', async () => {
    await nameMaster(registry, 'pod-2', b.url);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const get = (await (await fetch(`${door.url}/`)).json()) as Record<string, unknown>;
    assert.equal(get.upstream, 'B');
    const { hello } = await greet(door.url, sockets);
    assert.equal(hello, 'B');
  });

  it('re-reads the registry at once when the cached master does not answer', async () => {
    const deadPort = await freePort();
    const slow = await FrontDoor.start({
      registryPath: registry,
      port: 0,
      cacheMs: 60_000,
      logger,
    });
    try {
      await nameMaster(registry, 'pod-3', `http://127.0.0.1:${deadPort}`);
      // A POST cannot be replayed: the client learns the master did not answer.
      const refused = await fetch(`${slow.url}/upload`, { method: 'POST', body: 'x' });
      assert.equal(refused.status, 503);
      assert.match(
        ((await refused.json()) as { error: string }).error,
        /The master pod-3 at http:\/\/127\.0\.0\.1:\d+ did not answer \(ECONNREFUSED\)/,
      );
      // The error dropped the cache, so the next request reads the new record at once.
      await nameMaster(registry, 'pod-1', a.url);
      const next = (await (await fetch(`${slow.url}/x`)).json()) as Record<string, unknown>;
      assert.equal(next.upstream, 'A');
      // A GET that meets a dead master is replayed once against the newly named one.
      const cached = await slow.master();
      assert.equal(cached?.pod, 'pod-1');
      await nameMaster(registry, 'pod-3', `http://127.0.0.1:${deadPort}`);
      const slow2 = await FrontDoor.start({
        registryPath: registry,
        port: 0,
        cacheMs: 60_000,
        logger,
      });
      try {
        assert.equal((await slow2.master())?.pod, 'pod-3'); // cached: the dead one
        await nameMaster(registry, 'pod-2', b.url);
        const replayed = (await (await fetch(`${slow2.url}/y`)).json()) as Record<string, unknown>;
        assert.equal(replayed.upstream, 'B');
      } finally {
        await slow2.close();
      }
    } finally {
      await slow.close();
    }
  });

  it('survives a registry entry it cannot route to', async () => {
    await nameMaster(registry, 'pod-9', 'not a url');
    await new Promise((resolve) => setTimeout(resolve, 60));
    const res = await fetch(`${door.url}/api/jobs`);
    assert.ok(res.status === 502 || res.status === 503, String(res.status));
    assert.equal(typeof ((await res.json()) as { error: string }).error, 'string');
    const upgrade = await rawUpgrade(door.url).catch((err: Error) => err);
    assert.ok(upgrade instanceof Error || upgrade.status >= 500);
    // Still serving once the registry is fixed.
    await nameMaster(registry, 'pod-1', a.url);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(
      ((await (await fetch(`${door.url}/`)).json()) as { upstream: string }).upstream,
      'A',
    );
  });

  it('cuts proxied WebSockets on both sides when it closes', async () => {
    await nameMaster(registry, 'pod-1', a.url);
    const own = await FrontDoor.start({ registryPath: registry, port: 0, cacheMs: 50, logger });
    const { socket } = await greet(own.url, sockets);
    const gone = withTimeout(
      new Promise<string>((resolve) => socket.once('disconnect', resolve)),
      5_000,
      'disconnect',
    );
    const upstreamBefore = a.disconnects.length;
    await withTimeout(own.close(), 5_000, 'front door close');
    assert.equal(await gone, 'transport close');
    // The master learns at once too, not after its 20 s ping timeout.
    const started = Date.now();
    while (a.disconnects.length === upstreamBefore) {
      assert.ok(Date.now() - started < 5_000, 'the upstream still holds the WebSocket');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(a.disconnects.at(-1), 'transport close');
  });
});
