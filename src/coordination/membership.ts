import { EventEmitter } from 'node:events';
import { HisteqError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { isZkError } from './zk-errors.js';
import type { ZkSession } from './zk-session.js';
import { waitForDeletion, type StopWatching } from './zk-watch.js';

export type MemberRole = 'master' | 'worker';

/** What each pod publishes at `/nodes/<pod>`. */
export interface MemberInfo {
  pod: string;
  /** Where the pod's HTTP server answers, e.g. http://10.1.2.3:8080 */
  url: string;
  pid: number;
  role: MemberRole;
  /** ISO time the pod process started. */
  startedAt: string;
  /** The program version the pod runs. */
  version: string;
}

export interface MembershipOptions {
  session: ZkSession;
  logger: Logger;
  /** This pod's entry; `startedAt` defaults to now. */
  self: Omit<MemberInfo, 'startedAt'> & { startedAt?: string };
  /** Default `/nodes`. */
  basePath?: string;
}

export interface MembershipEvents {
  /** The set of members or one member's data changed; members sorted by pod name. */
  change: [members: MemberInfo[]];
}

/**
 * Cluster membership: our own ephemeral `/nodes/<pod>` (re-created after a session renewal)
 * and a live view of everyone's, kept by a children watch plus one data watch per member.
 */
export class Membership extends EventEmitter<MembershipEvents> {
  readonly #session: ZkSession;
  readonly #log: Logger;
  readonly #base: string;
  #self: MemberInfo;
  readonly #members = new Map<string, MemberInfo>();
  readonly #memberWatches = new Map<string, StopWatching>();
  #stopChildren: StopWatching = () => {};
  #removeHook: () => void = () => {};
  #lastEmitted = '';
  #closed = false;

  private constructor(options: MembershipOptions) {
    super();
    this.#session = options.session;
    this.#log = options.logger;
    this.#base = options.basePath ?? '/nodes';
    this.#self = { ...options.self, startedAt: options.self.startedAt ?? new Date().toISOString() };
  }

  /** Registers this pod and starts the live view; resolves once the view includes us. */
  static async create(options: MembershipOptions): Promise<Membership> {
    const membership = new Membership(options);
    const session = membership.#session;
    await session.ensurePath(membership.#base);
    await membership.#register();
    membership.#removeHook = session.onSessionRenewed(() => membership.#register());
    const seen = new Promise<void>((resolve) => {
      const onChange = (members: MemberInfo[]): void => {
        if (!members.some((m) => m.pod === membership.#self.pod)) return;
        membership.off('change', onChange);
        resolve();
      };
      membership.on('change', onChange);
    });
    membership.#stopChildren = session.watchChildren(membership.#base, (children) =>
      membership.#onChildren(children ?? []),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      seen,
      new Promise((r) => (timer = setTimeout(r, session.sessionTimeoutMs))),
    ]);
    clearTimeout(timer);
    return membership;
  }

  get self(): MemberInfo {
    return { ...this.#self };
  }

  /** Everyone currently registered (including us), sorted by pod name. */
  get members(): MemberInfo[] {
    return [...this.#members.values()].sort((a, b) => a.pod.localeCompare(b.pod));
  }

  member(pod: string): MemberInfo | undefined {
    return this.#members.get(pod);
  }

  /**
   * Changes our entry (not the pod name). The new values are kept even if ZooKeeper is
   * unreachable right now: a re-registration after renewal publishes them.
   */
  async update(partial: Partial<Omit<MemberInfo, 'pod'>>): Promise<void> {
    this.#self = { ...this.#self, ...partial, pod: this.#self.pod };
    if (this.#closed) return;
    try {
      await this.#session.setData(this.#path, JSON.stringify(this.#self));
    } catch (err) {
      // Between expiry and re-registration there is no node to update; the hook writes ours.
      if (!isZkError(err, 'NO_NODE', 'SESSION_EXPIRED')) throw err;
    }
  }

  /** Stops watching and removes our node, so the others see us leave at once. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#removeHook();
    this.#stopChildren();
    for (const stop of this.#memberWatches.values()) stop();
    this.#memberWatches.clear();
    try {
      const stat = await this.#session.exists(this.#path);
      if (stat && this.#session.ownership(stat) === 'current') {
        await this.#session.remove(this.#path, stat.version);
      }
    } catch (err) {
      this.#log.debug({ err }, 'membership: could not remove own node on close');
    }
  }

  get #path(): string {
    return `${this.#base}/${this.#self.pod}`;
  }

  /**
   * Creates our ephemeral node. A leftover from an earlier session of ours is replaced; one
   * held by another live session (a previous incarnation of this pod) is waited out, bounded.
   */
  async #register(): Promise<void> {
    const session = this.#session;
    const deadline = Date.now() + 2 * session.sessionTimeoutMs + 1_000;
    while (!this.#closed) {
      try {
        await session.create(this.#path, JSON.stringify(this.#self), 'ephemeral');
        this.#log.info({ path: this.#path }, 'membership registered');
        return;
      } catch (err) {
        if (!isZkError(err, 'NODE_EXISTS')) throw err;
      }
      const stat = await session.exists(this.#path);
      if (stat === null) continue;
      const owner = session.ownership(stat);
      if (owner === 'current') {
        // An earlier attempt's create went through after all (its answer was lost).
        await session.setData(this.#path, JSON.stringify(this.#self));
        return;
      }
      if (owner === 'previous' || owner === 'none') {
        await session.remove(this.#path, stat.version).catch((err: unknown) => {
          if (!isZkError(err, 'NO_NODE', 'BAD_VERSION')) throw err;
        });
        continue;
      }
      if (Date.now() >= deadline) {
        throw new HisteqError(
          'CLUSTER_DEGRADED',
          `${this.#path} is held by another live ZooKeeper session: is pod name ${this.#self.pod} used twice?`,
        );
      }
      this.#log.warn({ path: this.#path }, 'membership: node held by another session; waiting');
      await waitForDeletion(session, this.#path, Math.max(0, deadline - Date.now()));
    }
  }

  #onChildren(children: string[]): void {
    if (this.#closed) return;
    const present = new Set(children);
    for (const [pod, stop] of this.#memberWatches) {
      if (present.has(pod)) continue;
      stop();
      this.#memberWatches.delete(pod);
      this.#members.delete(pod);
    }
    for (const pod of present) {
      if (this.#memberWatches.has(pod)) continue;
      const stop = this.#session.watchData(`${this.#base}/${pod}`, (snapshot) => {
        if (this.#closed) return;
        const info = snapshot ? parseMember(snapshot.data, pod, this.#log) : null;
        if (info) this.#members.set(pod, info);
        else this.#members.delete(pod);
        this.#emitIfChanged();
      });
      this.#memberWatches.set(pod, stop);
    }
    this.#emitIfChanged();
  }

  #emitIfChanged(): void {
    const members = this.members;
    const serialized = JSON.stringify(members);
    if (serialized === this.#lastEmitted) return;
    this.#lastEmitted = serialized;
    this.emit('change', members);
  }
}

function parseMember(data: Buffer, pod: string, log: Logger): MemberInfo | null {
  try {
    const value = JSON.parse(data.toString('utf8')) as Partial<MemberInfo>;
    if (typeof value !== 'object' || value === null) throw new Error('not an object');
    return {
      pod,
      url: String(value.url ?? ''),
      pid: Number(value.pid ?? 0),
      role: value.role === 'master' ? 'master' : 'worker',
      startedAt: String(value.startedAt ?? ''),
      version: String(value.version ?? ''),
    };
  } catch (err) {
    log.warn({ err, pod }, 'membership: ignoring a member node that is not valid JSON');
    return null;
  }
}
