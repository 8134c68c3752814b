import type { EventEmitter } from 'node:events';
import type { MemberInfo, Membership, ZkSession } from '../coordination/index.js';
import type { ClusterAlert, ClusterSnapshot, WebEvents } from '../web/deps.js';

export interface ClusterStateOptions {
  session: ZkSession;
  membership: Membership;
  zkHosts: string;
  minPods: number;
  isLeader: () => boolean;
  /** Tasks each pod runs now, when known (this pod's own at least). */
  tasksOf: (pod: string) => string[] | undefined;
  events: EventEmitter<WebEvents>;
}

/**
 * The cluster as the UI sees it: members from `/nodes`, the master, the ZooKeeper session, and
 * alerts (too few pods, ZooKeeper lost). Publishes `cluster` and `cluster_alert` events when
 * anything changes; alerts are raised and cleared once each, not repeated.
 */
export class ClusterState {
  readonly #o: ClusterStateOptions;
  #alerts = new Map<string, ClusterAlert>();

  readonly #refresh = (): void => this.refresh();

  constructor(options: ClusterStateOptions) {
    this.#o = options;
    options.membership.on('change', this.#refresh);
    options.session.on('state', this.#refresh);
  }

  /** Stops following membership and the session (they outlive us in tests). */
  close(): void {
    this.#o.membership.off('change', this.#refresh);
    this.#o.session.off('state', this.#refresh);
  }

  snapshot(): ClusterSnapshot {
    const { membership, session } = this.#o;
    const members = membership.members;
    const master = members.find((m) => m.role === 'master') ?? null;
    return {
      master: master?.pod ?? null,
      masterUrl: master?.url ?? null,
      pods: members.map((m: MemberInfo) => ({ ...m, tasks: this.#o.tasksOf(m.pod) })),
      zk: { state: session.state, sessionId: session.sessionId || null, hosts: this.#o.zkHosts },
      alerts: [...this.#alerts.values()],
    };
  }

  /** The sentence to refuse uploads with while the cluster is degraded, else null. */
  degraded(): string | null {
    const live = this.#o.membership.members.length;
    if (live < this.#o.minPods) {
      return `Only ${live} pod${live === 1 ? ' is' : 's are'} alive and at least ${this.#o.minPods} are required (MIN_PODS); please retry when the cluster has recovered.`;
    }
    return null;
  }

  refresh(): void {
    this.#setAlert('pods', this.#o.isLeader() ? this.degraded() : null);
    const zk = this.#o.session.state;
    this.#setAlert(
      'zookeeper',
      zk === 'connected'
        ? null
        : `ZooKeeper session is ${zk}: coordination paused until it is back.`,
    );
    this.#o.events.emit('cluster', this.snapshot());
  }

  #setAlert(key: string, message: string | null): void {
    const had = this.#alerts.get(key);
    if (message && had?.message !== message) {
      const alert: ClusterAlert = { status: key === 'zookeeper' ? 'error' : 'degraded', message };
      this.#alerts.set(key, alert);
      this.#o.events.emit('cluster_alert', alert);
    } else if (!message && had) {
      this.#alerts.delete(key);
      this.#o.events.emit('cluster_alert', { status: 'ok', message: `Resolved: ${had.message}` });
    }
  }
}
