import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../src/common/log.js';
import { FileLogSource, podLogPath } from '../../src/cluster/file-log-source.js';
import { KubeLogSource, timestampKey } from '../../src/cluster/kube-log-source.js';
import type { StopFollowing } from '../../src/cluster/log-source.js';
import { FakeKubeApi, kubeConfigFor } from '../support/fake-kube-api.js';
import { captureLogger } from '../support/capture-logger.js';

const NS = 'demo';

/** Polls `condition` every 10 ms; fails the test after `timeoutMs`. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** RFC3339 at whole second `epochSeconds`, with the given fraction digits (none when ''). */
function stamp(epochSeconds: number, fraction = ''): string {
  const base = new Date(epochSeconds * 1000).toISOString().slice(0, 19);
  return fraction ? `${base}.${fraction}Z` : `${base}Z`;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

describe('KubeLogSource against a fake API server', () => {
  let api: FakeKubeApi;
  let kc: KubeConfig;
  const stops: StopFollowing[] = [];

  before(async () => {
    api = await FakeKubeApi.start();
    kc = kubeConfigFor(api, NS);
  });
  afterEach(() => stops.splice(0).forEach((stop) => stop()));
  after(() => api.close());

  const source = (logger: Logger) =>
    new KubeLogSource({
      kubeConfig: kc,
      namespace: NS,
      container: 'app',
      logger,
      minReconnectDelayMs: 20,
      maxReconnectDelayMs: 100,
    });

  it('streams new lines only, with follow and timestamps requested', async () => {
    api.addPod(NS, 'p1');
    api.pushLog(NS, 'p1', 'old line', stamp(nowSeconds() - 5, '1'));
    const got: string[] = [];
    stops.push(source(captureLogger().logger).follow('p1', (l) => got.push(l)));
    await waitFor(() => api.followerCount(NS, 'p1') === 1, 'the follow request');
    api.pushLog(NS, 'p1', 'hello');
    api.pushLog(NS, 'p1', 'world');
    await waitFor(() => got.length === 2, 'two lines');
    assert.deepEqual(got, ['hello', 'world']);
    const req = api.requestsTo('GET', `/api/v1/namespaces/${NS}/pods/p1/log`)[0];
    assert.equal(req?.query.follow, 'true');
    assert.equal(req?.query.timestamps, 'true');
    assert.equal(req?.query.container, 'app');
  });

  it('replays a backlog with tailLines', async () => {
    api.addPod(NS, 'p2');
    for (const n of [1, 2, 3])
      api.pushLog(NS, 'p2', `line ${n}`, stamp(nowSeconds() - 5, String(n)));
    const got: string[] = [];
    stops.push(
      source(captureLogger().logger).follow('p2', (l) => got.push(l), { backlogLines: 2 }),
    );
    await waitFor(() => got.length === 2, 'the backlog');
    assert.deepEqual(got, ['line 2', 'line 3']);
    assert.equal(
      api.requestsTo('GET', `/api/v1/namespaces/${NS}/pods/p2/log`)[0]?.query.tailLines,
      '2',
    );
  });

  it('reconnects with sinceTime after the stream ends or breaks, without duplicates', async () => {
    api.addPod(NS, 'p3');
    const logPath = `/api/v1/namespaces/${NS}/pods/p3/log`;
    const got: string[] = [];
    const { logger } = captureLogger();
    stops.push(source(logger).follow('p3', (l) => got.push(l)));
    await waitFor(() => api.followerCount(NS, 'p3') === 1, 'the follow request');
    // Same second, two identical timestamps, and a trimmed fraction that sorts wrong as text.
    const second = nowSeconds() + 2;
    api.pushLog(NS, 'p3', 'a', stamp(second, '5'));
    api.pushLog(NS, 'p3', 'b', stamp(second, '5'));
    api.pushLog(NS, 'p3', 'c', stamp(second, '700000001'));
    await waitFor(() => got.length === 3, 'three lines');

    assert.equal(api.endLogStreams(NS, 'p3'), 1); // clean end, as API server timeouts do
    await waitFor(() => api.requestsTo('GET', logPath).length === 2, 'a reconnect');
    await waitFor(() => api.followerCount(NS, 'p3') === 1, 'the new stream');
    const since = api.requestsTo('GET', logPath)[1]?.query.sinceTime;
    assert.equal(since, stamp(second), 'sinceTime of the last line, whole second');
    api.pushLog(NS, 'p3', 'd', stamp(second, '9'));
    await waitFor(() => got.length >= 4, 'the line after reconnecting');

    assert.equal(api.breakLogStreams(NS, 'p3'), 1); // abrupt: no final chunk
    await waitFor(() => api.requestsTo('GET', logPath).length === 3, 'a second reconnect');
    await waitFor(() => api.followerCount(NS, 'p3') === 1, 'the third stream');
    api.pushLog(NS, 'p3', 'e', stamp(second + 1, '1'));
    await waitFor(() => got.length >= 5, 'the line after the break');
    await sleep(50); // a duplicate would arrive right behind
    assert.deepEqual(got, ['a', 'b', 'c', 'd', 'e']);
  });

  it('stop() aborts the stream and delivers nothing more', async () => {
    api.addPod(NS, 'p4');
    const got: string[] = [];
    const stop = source(captureLogger().logger).follow('p4', (l) => got.push(l));
    await waitFor(() => api.followerCount(NS, 'p4') === 1, 'the follow request');
    stop();
    stop();
    await waitFor(() => api.followerCount(NS, 'p4') === 0, 'the stream to close');
    api.pushLog(NS, 'p4', 'late');
    await sleep(200);
    assert.deepEqual(got, []);
    assert.equal(api.requestsTo('GET', `/api/v1/namespaces/${NS}/pods/p4/log`).length, 1);
  });

  it('explains a 403 on pods/log once and recovers when access is granted', async () => {
    api.addPod(NS, 'p5');
    api.setForbidden(['log']);
    const { logger, events } = captureLogger();
    const got: string[] = [];
    stops.push(source(logger).follow('p5', (l) => got.push(l)));
    const logPath = `/api/v1/namespaces/${NS}/pods/p5/log`;
    await waitFor(() => api.requestsTo('GET', logPath).length >= 3, 'a few retries');
    const rbac = events().filter((e) => /may not get pods\/log/.test(String(e.msg)));
    assert.equal(rbac.length, 1);
    api.setForbidden([]);
    await waitFor(() => api.followerCount(NS, 'p5') === 1, 'the stream after access is granted');
    api.pushLog(NS, 'p5', 'finally');
    await waitFor(() => got.length === 1, 'the line');
    assert.deepEqual(got, ['finally']);
  });

  it('orders timestamps numerically, not as text', () => {
    const a = timestampKey('2024-01-01T00:00:05.1Z');
    const b = timestampKey('2024-01-01T00:00:05.123Z');
    assert.ok(a !== undefined && b !== undefined && a < b);
    assert.equal(timestampKey('2024-01-01T00:00:05Z'), 1704067205n * 1_000_000_000n);
    assert.equal(timestampKey('not a time'), undefined);
  });
});

describe('FileLogSource', () => {
  let dir: string;
  const stops: StopFollowing[] = [];
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'histeq-logs-'));
  });
  afterEach(() => stops.splice(0).forEach((stop) => stop()));
  after(() => rm(dir, { recursive: true, force: true }));

  const source = () =>
    new FileLogSource({ logDir: dir, logger: captureLogger().logger, pollIntervalMs: 50 });
  const follow = (pod: string, got: string[], options = {}) =>
    stops.push(source().follow(pod, (l) => got.push(l), options));

  it('follows appended lines from the end, joining partial writes', async () => {
    const file = podLogPath(dir, 'pod-a');
    await writeFile(file, 'before 1\nbefore 2\n');
    const got: string[] = [];
    follow('pod-a', got);
    await sleep(100); // let it take its starting position
    await appendFile(file, 'new 1\nnew');
    await appendFile(file, ' 2\n');
    await waitFor(() => got.length === 2, 'two new lines');
    assert.deepEqual(got, ['new 1', 'new 2']);
  });

  it('picks up a file created later and a truncation on restart', async () => {
    const file = podLogPath(dir, 'pod-b');
    const got: string[] = [];
    follow('pod-b', got);
    await sleep(100);
    await writeFile(file, 'first run 1\nfirst run 2\n');
    await waitFor(() => got.length === 2, 'lines of a file created later');
    await truncate(file, 0); // the pod restarts and reopens its log
    await sleep(150);
    await appendFile(file, 'second run\n');
    await waitFor(() => got.length === 3, 'the line after truncation');
    assert.deepEqual(got, ['first run 1', 'first run 2', 'second run']);
  });

  it('notices a rewrite that outgrew the old size between checks', async () => {
    const file = podLogPath(dir, 'pod-c');
    await writeFile(file, 'x\n');
    const got: string[] = [];
    follow('pod-c', got);
    await sleep(100);
    await writeFile(file, 'restarted and already longer\n'); // truncate + write in one go
    await waitFor(() => got.length === 1, 'the rewritten line');
    assert.deepEqual(got, ['restarted and already longer']);
  });

  it('replays a backlog or starts at an offset', async () => {
    const file = podLogPath(dir, 'pod-d');
    await writeFile(file, 'l1\nl2\nl3\npartial');
    const backlog: string[] = [];
    follow('pod-d', backlog, { backlogLines: 2 });
    await waitFor(() => backlog.length === 2, 'the backlog');
    const fromOffset: string[] = [];
    follow('pod-d', fromOffset, { fromOffset: 3 });
    await waitFor(() => fromOffset.length === 2, 'lines from the offset');
    await appendFile(file, ' line\n');
    await waitFor(() => backlog.length === 3 && fromOffset.length === 3, 'the completed line');
    assert.deepEqual(backlog, ['l2', 'l3', 'partial line']);
    assert.deepEqual(fromOffset, ['l2', 'l3', 'partial line']);
  });

  it('stops delivering after stop() and rejects path tricks', async () => {
    const file = podLogPath(dir, 'pod-e');
    await writeFile(file, '');
    const got: string[] = [];
    const stop = source().follow('pod-e', (l) => got.push(l));
    await sleep(100);
    stop();
    await appendFile(file, 'after stop\n');
    await sleep(200);
    assert.deepEqual(got, []);
    assert.throws(() => podLogPath(dir, '../etc/passwd'), { code: 'BAD_REQUEST' });
    assert.throws(() => source().follow('a/b', () => undefined), { code: 'BAD_REQUEST' });
  });
});
