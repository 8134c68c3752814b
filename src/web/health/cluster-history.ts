import { askPod } from '../ask-pod.js';
import type { PodView } from '../deps.js';
import { podFiguresSchema, type PodFigures } from './figures.js';

export interface ClusterHistoryOptions {
  /** The pods to sample now (the cluster view's members). */
  pods: () => readonly PodView[];
  /** This pod's name and its own figures, read directly rather than over HTTP. */
  self: string;
  ownFigures: () => Promise<PodFigures>;
  /** Sampling runs only while this is true (the master collects; workers keep nothing). */
  active: () => boolean;
  /** API_TOKEN, sent to the other pods' /figures. */
  token?: string;
  sampleMs: number;
  /** How much history is kept (15 minutes by default). */
  windowMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

/** One sampling round: each pod's figures, or null for a pod that did not answer. */
interface Sample {
  at: number;
  pods: Map<string, PodFigures | null>;
}

/** A pod's row in the health table: its latest figures and when it last answered. */
export interface PodHealthRow {
  pod: string;
  figures: PodFigures | null;
  /** Since its figures last arrived with a ZooKeeper round trip (its heartbeat); null: never. */
  lastHeartbeatMsAgo: number | null;
}

/** What GET /api/cluster/history answers: the table, and series for the page's charts. */
export interface HealthView {
  sampleMs: number;
  windowMs: number;
  pods: PodHealthRow[];
  /** One entry per interval between samples, oldest first. */
  series: {
    at: number[];
    /** Megapixels equalized per second, all pods together. */
    megapixelsPerSecond: number[];
    /** Mean duration of the tasks that finished in the interval (null: none did). */
    taskMeanMs: (number | null)[];
    /** The worst pod's event-loop delay in the interval. */
    eventLoopDelayMs: number[];
  };
}

/**
 * The master's memory of the cluster's health over the last minutes: every `sampleMs` it reads
 * each pod's figures (GET /figures, bounded by a timeout) and keeps a window of samples, from
 * which the page draws throughput, task durations and event-loop delay — no Grafana needed.
 * A new master starts with an empty window; the pods' counters are cumulative, so rates resume
 * at its second sample.
 */
export class ClusterHistory {
  readonly #o: Required<Omit<ClusterHistoryOptions, 'token'>> & { token?: string };
  readonly #samples: Sample[] = [];
  readonly #heartbeats = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #sampling = false;

  constructor(options: ClusterHistoryOptions) {
    this.#o = { windowMs: 15 * 60_000, timeoutMs: 1000, now: Date.now, ...options };
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.sample(), this.#o.sampleMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One round (also called by tests); overlapping rounds are skipped, not queued. */
  async sample(): Promise<void> {
    if (this.#sampling) return;
    if (!this.#o.active()) {
      this.#samples.length = 0; // a demoted master's history would go stale
      return;
    }
    this.#sampling = true;
    try {
      const pods = this.#o.pods();
      const answers = await Promise.all(pods.map((p) => this.#read(p)));
      const at = this.#o.now();
      const sample: Sample = { at, pods: new Map(pods.map((p, i) => [p.pod, answers[i]])) };
      for (const [pod, figures] of sample.pods) {
        if (figures && figures.zk.roundTripMs !== null) this.#heartbeats.set(pod, at);
      }
      this.#samples.push(sample);
      while (this.#samples.length > 1 && at - this.#samples[0].at > this.#o.windowMs) {
        this.#samples.shift();
      }
    } finally {
      this.#sampling = false;
    }
  }

  view(): HealthView {
    const now = this.#o.now();
    const last = this.#samples.at(-1);
    const pods = [...(last?.pods.entries() ?? [])].map(([pod, figures]): PodHealthRow => {
      const beat = this.#heartbeats.get(pod);
      return { pod, figures, lastHeartbeatMsAgo: beat === undefined ? null : now - beat };
    });
    const series: HealthView['series'] = {
      at: [],
      megapixelsPerSecond: [],
      taskMeanMs: [],
      eventLoopDelayMs: [],
    };
    for (let i = 1; i < this.#samples.length; i++) {
      const [before, after] = [this.#samples[i - 1], this.#samples[i]];
      const seconds = Math.max(0.001, (after.at - before.at) / 1000);
      let pixels = 0;
      let taskSeconds = 0;
      let tasks = 0;
      let delay = 0;
      for (const [pod, now] of after.pods) {
        if (!now) continue;
        delay = Math.max(delay, now.eventLoopDelayMs);
        const then = before.pods.get(pod);
        pixels += increase(then?.equalizedPixels, now.equalizedPixels);
        taskSeconds += increase(then?.taskSeconds.sum, now.taskSeconds.sum);
        tasks += increase(then?.taskSeconds.count, now.taskSeconds.count);
      }
      series.at.push(after.at);
      series.megapixelsPerSecond.push(pixels / 1e6 / seconds);
      series.taskMeanMs.push(tasks > 0 ? (taskSeconds / tasks) * 1000 : null);
      series.eventLoopDelayMs.push(delay);
    }
    return { sampleMs: this.#o.sampleMs, windowMs: this.#o.windowMs, pods, series };
  }

  async #read(pod: PodView): Promise<PodFigures | null> {
    if (pod.pod === this.#o.self) return this.#o.ownFigures().catch(() => null);
    const { timeoutMs, token } = this.#o;
    const answer = await askPod(pod, '/figures', { timeoutMs, ...(token ? { token } : {}) });
    if (typeof answer === 'string' || !answer.ok) return null;
    const parsed = podFiguresSchema.safeParse(answer.body);
    return parsed.success ? parsed.data : null;
  }
}

/**
 * A counter's increase between two readings. A pod that restarted starts from zero again, so a
 * smaller reading is all new; a pod seen for the first time contributes nothing yet.
 */
function increase(before: number | undefined, after: number): number {
  if (before === undefined) return 0;
  return after >= before ? after - before : after;
}
