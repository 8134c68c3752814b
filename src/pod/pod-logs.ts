import type { EventEmitter } from 'node:events';
import type { LogSource, StopFollowing } from '../cluster/log-source.js';
import type { MemberInfo } from '../coordination/index.js';
import type { NodeLogEvent, WebEvents } from '../web/deps.js';

export interface PodLogsOptions {
  source: LogSource;
  /** The live pods and their changes (a Membership). */
  members: () => readonly MemberInfo[];
  onMembersChange: (listener: () => void) => () => void;
  events: EventEmitter<WebEvents>;
  /** Lines written before following starts that are sent too (default 50). */
  backlogLines?: number;
  /** Recent lines kept per pod for a browser that connects late (default 200). */
  keepLines?: number;
  /**
   * How long a pod that left is still followed (default 60 s): a crashed pod's last words
   * arrive late, and a pod restarted under the same name is not re-read from its backlog
   * (which would repeat lines the browsers already have).
   */
  lingerMs?: number;
}

/** Longer lines are cut: one runaway log line must not stall every browser. */
const MAX_LINE = 4000;

/**
 * The master's view of every pod's log: follows each member through the LogSource and emits
 * `node_log {pod, log}`. Started on election and stopped on demotion, so only the pod that
 * serves browsers reads logs; a new master starts over from each pod's backlog.
 */
export class PodLogs {
  readonly #o: PodLogsOptions;
  readonly #following = new Map<string, { stop: StopFollowing; linger?: NodeJS.Timeout }>();
  readonly #recent = new Map<string, string[]>();
  #unsubscribe: (() => void) | null = null;

  constructor(options: PodLogsOptions) {
    this.#o = options;
  }

  get active(): boolean {
    return this.#unsubscribe !== null;
  }

  /** Idempotent. */
  start(): void {
    if (this.#unsubscribe) return;
    this.#unsubscribe = this.#o.onMembersChange(() => this.#sync());
    this.#sync();
  }

  /** Idempotent; no node_log is emitted after it returns. */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    for (const pod of [...this.#following.keys()]) this.#unfollow(pod);
    this.#recent.clear();
  }

  /** The lines kept per pod, oldest first, for a browser that connects late. */
  recent(): NodeLogEvent[] {
    const out: NodeLogEvent[] = [];
    for (const [pod, lines] of this.#recent) for (const log of lines) out.push({ pod, log });
    return out;
  }

  #sync(): void {
    if (!this.#unsubscribe) return;
    const live = new Set(this.#o.members().map((m) => m.pod));
    for (const pod of live) {
      const followed = this.#following.get(pod);
      if (!followed) this.#follow(pod);
      else if (followed.linger) {
        clearTimeout(followed.linger);
        delete followed.linger;
      }
    }
    for (const [pod, followed] of this.#following) {
      if (live.has(pod) || followed.linger) continue;
      followed.linger = setTimeout(() => this.#unfollow(pod), this.#o.lingerMs ?? 60_000);
      followed.linger.unref();
    }
  }

  #follow(pod: string): void {
    const keep = this.#o.keepLines ?? 200;
    const stop = this.#o.source.follow(
      pod,
      (line) => {
        if (!this.#unsubscribe || line.trim() === '') return;
        const log = line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line;
        let lines = this.#recent.get(pod);
        if (!lines) this.#recent.set(pod, (lines = []));
        lines.push(log);
        if (lines.length > keep) lines.splice(0, lines.length - keep);
        this.#o.events.emit('node_log', { pod, log });
      },
      { backlogLines: this.#o.backlogLines ?? 50 },
    );
    this.#following.set(pod, { stop });
  }

  #unfollow(pod: string): void {
    const followed = this.#following.get(pod);
    if (!followed) return;
    clearTimeout(followed.linger);
    followed.stop();
    this.#following.delete(pod);
    this.#recent.delete(pod);
  }
}
