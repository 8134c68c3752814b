import type { EventEmitter } from 'node:events';
import type { Logger } from '../common/log.js';
import type { Config } from '../config.js';
import type { LeaderElection, Membership, ZkSession } from '../coordination/index.js';
import type { JobOrchestrator } from '../jobs/master/orchestrator.js';
import type { TaskWorker } from '../jobs/worker/task-worker.js';
import type { ImagePool } from '../pool/image-pool.js';
import type { WebEvents } from '../web/deps.js';
import { createLogSource } from './log-source-factory.js';
import { PodMetrics } from './metrics.js';
import { PodLogs } from './pod-logs.js';

/* Two of the pod's parts whose wiring is longer than a line: its metrics and every pod's log. */

/** The pod's Prometheus metrics, fed by the parts that count. */
export function podMetrics(
  config: Config,
  p: {
    session: ZkSession;
    pool: ImagePool;
    election: LeaderElection;
    orchestrator: JobOrchestrator;
    worker: TaskWorker;
  },
): PodMetrics {
  const metrics = new PodMetrics(config.pod, {
    isLeader: () => p.election.isLeader,
    zkState: () => p.session.state,
    pool: () => p.pool.stats,
    jobsByState: () => p.orchestrator.stateCounts(),
    zkOperations: () => p.session.operations,
    tasksRunning: () => p.worker.runningTasks,
  });
  p.session.on('state', (state) => {
    if (state === 'expired') metrics.sessionsExpired.inc();
  });
  p.worker.on('task', (kind, outcome, seconds, pixels) => {
    metrics.tasks.inc({ kind, outcome });
    if (outcome !== 'done') return;
    metrics.taskSeconds.observe({ kind }, seconds);
    metrics.taskPixels.inc({ kind }, pixels);
  });
  return metrics;
}

/** Every pod's log for the browsers (started by the master's duties); null without a source. */
export async function createPodLogs(
  config: Config,
  log: Logger,
  membership: Membership,
  events: EventEmitter<WebEvents>,
): Promise<PodLogs | null> {
  const source = await createLogSource(config, log.child({ component: 'pod-logs' }));
  if (!source) return null;
  return new PodLogs({
    source,
    members: () => membership.members,
    onMembersChange: (listener) => {
      membership.on('change', listener);
      return () => membership.off('change', listener);
    },
    events,
  });
}
