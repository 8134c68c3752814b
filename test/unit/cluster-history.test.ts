import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterHistory } from '../../src/web/health/cluster-history.js';
import type { PodFigures } from '../../src/web/health/figures.js';
import type { PodView } from '../../src/web/deps.js';

function figures(pixels: number, taskSum: number, tasks: number, delay = 1): PodFigures {
  return {
    pod: 'pod-1',
    at: 0,
    tasks: { done: tasks, failed: 0 },
    taskSeconds: { sum: taskSum, count: tasks },
    equalizedPixels: pixels,
    pool: { threads: 2, busy: 0, queued: 0 },
    eventLoopDelayMs: delay,
    rssBytes: 1,
    heapUsedBytes: 1,
    zk: { state: 'connected', roundTripMs: 1 },
  };
}

const pod = (name: string, url = 'http://127.0.0.1:9'): PodView => ({
  pod: name,
  url,
  pid: 1,
  role: 'master',
  startedAt: new Date(0).toISOString(),
  version: 'test',
});

describe('ClusterHistory', () => {
  it('turns counters into rates, counts a restarted pod from zero and trims the window', async () => {
    let now = 0;
    const readings = [
      figures(0, 0, 0),
      figures(4e6, 2, 4, 3), // +4 MP in 2 s, 4 tasks of 0.5 s
      figures(1e6, 0.1, 1, 7), // restarted: everything it reports is new
      figures(1e6, 0.1, 1), // idle
    ];
    let next = 0;
    const history = new ClusterHistory({
      pods: () => [pod('pod-1')],
      self: 'pod-1',
      ownFigures: async () => readings[next++],
      active: () => true,
      sampleMs: 2000,
      windowMs: 5000,
      now: () => now,
    });
    for (let i = 0; i < readings.length; i++) {
      await history.sample();
      now += 2000;
    }
    const { series } = history.view();
    // Four samples at 0, 2, 4, 6 s; the window (5 s) drops the first.
    assert.deepEqual(series.at, [4000, 6000]);
    assert.deepEqual(series.megapixelsPerSecond, [0.5, 0]);
    assert.deepEqual(series.taskMeanMs, [100, null]);
    assert.deepEqual(series.eventLoopDelayMs, [7, 1]);
  });

  it('marks a pod that does not answer, and keeps nothing while not the master', async () => {
    let active = true;
    const history = new ClusterHistory({
      pods: () => [pod('pod-1'), pod('pod-2')], // pod-2's address refuses connections
      self: 'pod-1',
      ownFigures: async () => figures(0, 0, 0),
      active: () => active,
      sampleMs: 1000,
      timeoutMs: 500,
    });
    await history.sample();
    const rows = history.view().pods;
    assert.deepEqual(
      rows.map((r) => [r.pod, r.figures !== null, r.lastHeartbeatMsAgo !== null]),
      [
        ['pod-1', true, true],
        ['pod-2', false, false],
      ],
    );
    active = false;
    await history.sample();
    assert.deepEqual(history.view().pods, []);
  });
});
