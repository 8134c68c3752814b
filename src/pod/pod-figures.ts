import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { PodFigures } from '../web/health/figures.js';
import { EVENT_LOOP_RESOLUTION_MS, type PodMetrics } from './metrics.js';

/** Where a pod's figures come from: its registry, plus a ZooKeeper round trip timed now. */
export interface FigureSources {
  metrics: PodMetrics;
  /** Times one cheap ZooKeeper request; rejects when the server does not answer. */
  zkRoundTrip: () => Promise<number>;
  zkState: () => string;
  now?: () => number;
}

export async function readPodFigures(pod: string, sources: FigureSources): Promise<PodFigures> {
  const [metrics, roundTripMs] = await Promise.all([
    sources.metrics.registry.getMetricsAsJSON(),
    sources.zkRoundTrip().catch(() => null),
  ]);
  const byName = new Map(
    metrics.map((m) => [m.name, m as MetricObjectWithValues<MetricValue<string>>]),
  );
  const values = (name: string) => byName.get(name)?.values ?? [];
  const sum = (name: string, match: (v: MetricValue<string>) => boolean = () => true) =>
    values(name)
      .filter(match)
      .reduce((n, v) => n + v.value, 0);
  const outcome = (o: string) => (v: MetricValue<string>) => v.labels.outcome === o;
  const histogramPart = (suffix: string) => (v: MetricValue<string>) =>
    (v as { metricName?: string }).metricName === `histeq_task_duration_seconds_${suffix}`;
  const p99 = sum('histeq_process_nodejs_eventloop_lag_p99_seconds') * 1000;
  return {
    pod,
    at: (sources.now ?? Date.now)(),
    tasks: {
      done: sum('histeq_tasks_total', outcome('done')),
      failed: sum('histeq_tasks_total', outcome('failed')),
    },
    taskSeconds: {
      sum: sum('histeq_task_duration_seconds', histogramPart('sum')),
      count: sum('histeq_task_duration_seconds', histogramPart('count')),
    },
    equalizedPixels: sum('histeq_task_pixels_total', (v) => v.labels.kind === 'equalize'),
    pool: {
      threads: sum('histeq_pool_threads'),
      busy: sum('histeq_pool_busy_threads'),
      queued: sum('histeq_pool_queue'),
    },
    // monitorEventLoopDelay measures between timer ticks: an idle loop reads the resolution.
    eventLoopDelayMs: Math.max(0, p99 - EVENT_LOOP_RESOLUTION_MS),
    // Read now: prom-client's process figures may lag a scrape behind.
    rssBytes: process.memoryUsage.rss(),
    heapUsedBytes: process.memoryUsage().heapUsed,
    zk: { state: sources.zkState(), roundTripMs },
  };
}
