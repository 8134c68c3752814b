import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricSources {
  isLeader: () => boolean;
  zkState: () => string;
  pool: () => { threads: number; utilization: number; queued: number; busy: number };
  /** ZooKeeper requests sent so far, by operation. */
  zkOperations: () => Record<string, number>;
  /** Jobs by state (only the master knows them; workers report none). */
  jobsByState: () => Record<string, number>;
  /** Tasks running on this pod now, as paths below /jobs. */
  tasksRunning?: () => readonly string[];
}

/**
 * The process's own peak resident memory. getrusage's maxRSS is no good here: Linux carries it
 * across exec from the parent at fork time, so a pod started by a big launcher would report the
 * launcher's peak. VmHWM belongs to this program's memory alone.
 */
function peakRssBytes(): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    // Not Linux: fall back below.
  }
  return process.resourceUsage().maxRSS * 1024;
}

/**
 * Sampling interval of the event-loop delay figures (prom-client's default, set explicitly).
 * Node's monitorEventLoopDelay records the time between timer ticks, not the lateness, so
 * `histeq_process_nodejs_eventloop_lag_*` read about this much on an idle loop: the delay is
 * the figure minus this interval.
 */
export const EVENT_LOOP_RESOLUTION_MS = 10;

const ZK_STATES = ['connecting', 'connected', 'suspended', 'expired', 'closed'];

/**
 * Prometheus metrics of one pod (prom-client, the de-facto Node client). Gauges are computed at
 * scrape time from the live objects, so there is nothing to keep in sync.
 */
export class PodMetrics {
  readonly registry = new Registry();
  readonly tasks: Counter<'kind' | 'outcome'>;
  readonly taskSeconds: Histogram<'kind'>;
  /** Pixels of the strips of successful tasks, by kind: the throughput a pod contributed. */
  readonly taskPixels: Counter<'kind'>;
  /** Sessions this pod lost (expired): load must never cause one. */
  readonly sessionsExpired: Counter;

  constructor(pod: string, sources: MetricSources) {
    const registry = this.registry;
    registry.setDefaultLabels({ pod });
    collectDefaultMetrics({
      register: registry,
      prefix: 'histeq_process_',
      eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS,
    });
    this.sessionsExpired = new Counter({
      name: 'histeq_zookeeper_sessions_expired_total',
      help: 'ZooKeeper sessions of this pod that expired (each is replaced by a new one).',
      registers: [registry],
    });
    this.tasks = new Counter({
      name: 'histeq_tasks_total',
      help: 'Task attempts run on this pod, by kind and outcome.',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    });
    this.taskSeconds = new Histogram({
      name: 'histeq_task_duration_seconds',
      help: 'Duration of successful tasks on this pod.',
      labelNames: ['kind'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.taskPixels = new Counter({
      name: 'histeq_task_pixels_total',
      help: 'Pixels of the strips of successful tasks on this pod, by kind.',
      labelNames: ['kind'],
      registers: [registry],
    });
    new Gauge({
      name: 'histeq_pool_busy_threads',
      help: 'Pool threads working on a request now.',
      registers: [registry],
      collect() {
        this.set(sources.pool().busy);
      },
    });
    new Gauge({
      name: 'histeq_leader',
      help: '1 while this pod is the master.',
      registers: [registry],
      collect() {
        this.set(sources.isLeader() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'histeq_zookeeper_session_state',
      help: '1 for the current ZooKeeper session state of this pod.',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const current = sources.zkState();
        for (const s of ZK_STATES) this.set({ state: s }, s === current ? 1 : 0);
      },
    });
    new Gauge({
      name: 'histeq_pool_utilization',
      help: 'Fraction of the thread pool capacity used since start.',
      registers: [registry],
      collect() {
        this.set(sources.pool().utilization);
      },
    });
    new Gauge({
      name: 'histeq_pool_queue',
      help: 'Pool tasks waiting for a thread.',
      registers: [registry],
      collect() {
        this.set(sources.pool().queued);
      },
    });
    new Gauge({
      name: 'histeq_tasks_running',
      help: 'Tasks running on this pod now, by kind.',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        const running = PodMetrics.runningByKind(sources.tasksRunning?.() ?? []);
        for (const [kind, n] of Object.entries(running)) this.set({ kind }, n);
      },
    });
    new Gauge({
      name: 'histeq_pool_threads',
      help: 'Threads of the image pool.',
      registers: [registry],
      collect() {
        this.set(sources.pool().threads);
      },
    });
    new Counter({
      name: 'histeq_zookeeper_operations_total',
      help: 'ZooKeeper requests sent by this pod, by operation.',
      labelNames: ['op'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [op, n] of Object.entries(sources.zkOperations())) this.inc({ op }, n);
      },
    });
    new Gauge({
      name: 'histeq_peak_rss_bytes',
      help: 'Peak resident memory of this pod process.',
      registers: [registry],
      collect() {
        this.set(peakRssBytes());
      },
    });
    new Gauge({
      name: 'histeq_jobs',
      help: 'Jobs known to the master, by state.',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [state, n] of Object.entries(sources.jobsByState())) this.set({ state }, n);
      },
    });
  }

  /** Running tasks by kind, from their ZooKeeper paths below /jobs. */
  static runningByKind(tasks: readonly string[]): Record<string, number> {
    const counts: Record<string, number> = { histogram: 0, equalize: 0 };
    for (const task of tasks) {
      // Task paths name the kind's folder: `<job>/histograms/task_3`, `<job>/equalize/task_0`.
      const folder = task.split('/').at(-2) ?? 'unknown';
      const kind = folder === 'histograms' ? 'histogram' : folder;
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    return counts;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
