import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { io as connectClient, type Socket } from 'socket.io-client';
import { newJobId } from '../../src/jobs/paths.js';
import type { JobStatusEvent } from '../../src/jobs/types.js';
import type { ClusterSnapshot } from '../../src/web/deps.js';
import { image, postForm, waitFor } from '../support/http-client.js';
import {
  clusterSnapshot,
  resetHarness,
  startWebHarness,
  type WebHarness,
} from '../support/web-harness.js';

describe('web server: Socket.IO', () => {
  let h: WebHarness;

  before(async () => {
    h = await startWebHarness({ maxUploadBytes: 64 * 1024 });
  });
  after(() => h.close());
  beforeEach(() => resetHarness(h));

  describe('Socket.IO', () => {
    const clients: Socket[] = [];
    before(async () => {
      for (const name of ['a.png', 'b.png']) {
        await postForm(h.url, [{ name: 'image', filename: name, data: image() }]);
      }
    });
    after(() => clients.forEach((c) => c.close()));

    function client(): Socket {
      const socket = connectClient(h.url, { transports: ['websocket'], reconnection: false });
      clients.push(socket);
      return socket;
    }

    function next<T>(socket: Socket, event: string, timeoutMs = 5_000): Promise<T> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${event} in ${timeoutMs} ms`)),
          timeoutMs,
        );
        socket.once(event, (value: T) => {
          clearTimeout(timer);
          resolve(value);
        });
      });
    }

    it('gives a late client the cluster and every latest job_status, then live events', async () => {
      const socket = client();
      const statuses: JobStatusEvent[] = [];
      socket.on('job_status', (s: JobStatusEvent) => statuses.push(s));
      const cluster = await next<ClusterSnapshot>(socket, 'cluster');
      assert.equal(cluster.master, 'pod-1');
      const expected = h.jobs.latest().map((s) => s.id);
      assert.ok(expected.length > 0);
      await waitFor(async () => statuses.length >= expected.length, 5_000);
      assert.deepEqual(
        statuses.map((s) => s.id),
        expected,
      );

      const live = next<JobStatusEvent>(socket, 'job_status');
      const done = newJobId();
      const event: JobStatusEvent = {
        id: done,
        name: 'a.png',
        state: 'done',
        phase: 'stitching',
        done: 4,
        total: 4,
        msg: 'done',
        url: `/download/${done}.png`,
      };
      h.events.emit('job_status', event);
      assert.deepEqual(await live, event);
      const alert = next(socket, 'cluster_alert');
      h.events.emit('cluster_alert', { status: 'degraded', message: 'Only 1 pod.' });
      assert.deepEqual(await alert, { status: 'degraded', message: 'Only 1 pod.' });
      const log = next(socket, 'node_log');
      h.events.emit('node_log', { pod: 'pod-2', log: 'hello' });
      assert.deepEqual(await log, { pod: 'pod-2', log: 'hello' });
    });

    it('drops its browsers when this pod stops being master', async () => {
      const socket = client();
      await next(socket, 'cluster');
      const gone = next<string>(socket, 'disconnect');
      Object.assign(h.role, { isMaster: false, masterPod: 'pod-2', masterUrl: 'http://x:1' });
      h.events.emit('cluster', { ...clusterSnapshot(), master: 'pod-2' });
      assert.equal(await gone, 'io server disconnect');
    });

    it('is refused by a worker with the master named', async () => {
      Object.assign(h.role, { isMaster: false, masterPod: 'pod-2', masterUrl: 'http://x:1' });
      const err = await next<Error & { data?: unknown }>(client(), 'connect_error');
      assert.equal(err.message, 'This pod (pod-1) is a worker; the master is pod-2 at http://x:1.');
      assert.deepEqual(err.data, { master: { pod: 'pod-2', url: 'http://x:1' } });
    });
  });
});
