import { askPod } from './ask-pod.js';
import type { PodView, WebDeps } from './deps.js';

/** What the master knows of one pod's health, for the dashboard's cluster table. */
export interface PodHealth {
  /** Its HTTP server answered the last probe (as itself: the answer names the pod). */
  serving: boolean;
  /** Its /readyz said ready (null when it did not answer). */
  ready: boolean | null;
  /** Why it is not ready or not answering, in the pod's or our own words. */
  reason?: string;
  /** How long ago the pod was last heard from (a probe answer or a log line), if ever. */
  lastSeenMsAgo?: number;
}

export interface PodHealthOptions {
  /** Bound on one probe; a pod slower than this counts as not answering. */
  timeoutMs?: number;
  /** Probes are reused for this long, so many open pages cost one probe per pod. */
  cacheMs?: number;
  now?: () => number;
}

/**
 * Probes every pod's /readyz (the same answer Kubernetes acts on) and remembers when each pod
 * was last heard from, by a probe or by a `node_log` line the master followed. The master's own
 * health is read directly: probing itself through its own socket would only add a round trip.
 */
export class PodHealthProbe {
  readonly #deps: WebDeps;
  readonly #timeoutMs: number;
  readonly #cacheMs: number;
  readonly #now: () => number;
  readonly #lastSeen = new Map<string, number>();
  #cached: { at: number; result: Promise<Map<string, PodHealth>> } | null = null;

  constructor(deps: WebDeps, options: PodHealthOptions = {}) {
    this.#deps = deps;
    this.#timeoutMs = options.timeoutMs ?? 800;
    this.#cacheMs = options.cacheMs ?? 1500;
    this.#now = options.now ?? Date.now;
    deps.events.on('node_log', ({ pod }) => this.#lastSeen.set(pod, this.#now()));
  }

  /** Health of the given pods, probed at most once per cacheMs. */
  async health(pods: readonly PodView[]): Promise<Map<string, PodHealth>> {
    const now = this.#now();
    if (!this.#cached || now - this.#cached.at >= this.#cacheMs) {
      const result = Promise.all(
        pods.map(async (p) => [p.pod, await this.#probe(p)] as const),
      ).then((entries) => new Map(entries));
      this.#cached = { at: now, result };
    }
    const probed = await this.#cached.result;
    const members = new Set(pods.map((p) => p.pod));
    for (const pod of this.#lastSeen.keys()) if (!members.has(pod)) this.#lastSeen.delete(pod);
    // Ages as of this answer (not of the probe), in the server's clock: the browser's may differ.
    const answered = this.#now();
    return new Map(
      pods.map((p) => {
        const seen = this.#lastSeen.get(p.pod);
        const health = probed.get(p.pod) ?? { serving: false, ready: null };
        return [p.pod, seen ? { ...health, lastSeenMsAgo: Math.max(0, answered - seen) } : health];
      }),
    );
  }

  async #probe(pod: PodView): Promise<Omit<PodHealth, 'lastSeenMsAgo'>> {
    let answer: Omit<PodHealth, 'lastSeenMsAgo'>;
    if (pod.pod === this.#deps.pod) {
      const { ready, reason } = this.#deps.readiness();
      answer = { serving: true, ready, ...(reason ? { reason } : {}) };
    } else {
      answer = await this.#ask(pod);
    }
    if (answer.serving) this.#lastSeen.set(pod.pod, this.#now());
    return answer;
  }

  async #ask(pod: PodView): Promise<Omit<PodHealth, 'lastSeenMsAgo'>> {
    const answer = await askPod(pod, '/readyz', { timeoutMs: this.#timeoutMs });
    if (answer === 'silent') return { serving: false, ready: null, reason: 'not answering HTTP' };
    if (answer === 'impostor') {
      return { serving: false, ready: null, reason: 'another process answers at its address' };
    }
    const reason = typeof answer.body.reason === 'string' ? answer.body.reason : undefined;
    return { serving: true, ready: answer.ok, ...(reason ? { reason } : {}) };
  }
}
