import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { LeaderElection, Membership } from '../coordination/index.js';
import type { LiveAttempts } from '../jobs/master/live-view.js';
import type { JobOrchestrator } from '../jobs/master/orchestrator.js';
import type { TaskWorker } from '../jobs/worker/task-worker.js';
import type { MasterLabel } from './master-label.js';
import type { PodLogs } from './pod-logs.js';

export interface MasterDutiesParts {
  election: LeaderElection;
  membership: Membership;
  masterLabel: MasterLabel;
  orchestrator: JobOrchestrator;
  /** The running jobs' attempts for the browsers, fed by the orchestrator's job_status. */
  liveAttempts: LiveAttempts;
  worker: TaskWorker;
  /** Null when there is no log source. */
  podLogs: PodLogs | null;
  /** MASTER_TAKES_TASKS: false keeps the master's threads for its own work. */
  masterTakesTasks: boolean;
  logger: Logger;
}

/**
 * What a pod does only while it leads, started when it is elected and stopped when it is
 * demoted: the orchestrator (and the live attempts it feeds), the master role in membership, the role=master label, and reading
 * every pod's log for the browsers. Each step re-checks leadership, because a demotion can land
 * between any two of them.
 */
export class MasterDuties {
  readonly #p: MasterDutiesParts;

  constructor(parts: MasterDutiesParts) {
    this.#p = parts;
  }

  async start(): Promise<void> {
    const { election, masterLabel, membership, orchestrator, worker, logger } = this.#p;
    logger.info('elected master');
    try {
      worker.setPaused(!this.#p.masterTakesTasks);
      await orchestrator.activate();
      if (!election.isLeader) return;
      await membership.update({ role: 'master' });
      // Demoted during the update: stop() has already removed the label, and publishing now
      // would leave a stale master label behind it.
      if (!election.isLeader) return;
      await masterLabel.publish();
      // Demoted before the publish was queued (so its removal ran first): remove again.
      if (!election.isLeader) await masterLabel.remove();
      // Only the master serves browsers, so only it reads every pod's log.
      if (election.isLeader) this.#p.podLogs?.start();
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'could not take over as master');
    }
  }

  async stop(reason: string): Promise<void> {
    const { masterLabel, membership, orchestrator, worker, logger } = this.#p;
    logger.warn({ reason }, 'no longer master');
    this.#p.podLogs?.stop();
    await orchestrator.deactivate();
    this.#p.liveAttempts.close();
    worker.setPaused(false);
    // A failed removal keeps readiness false and is retried until the label is gone.
    await Promise.allSettled([masterLabel.remove(), membership.update({ role: 'worker' })]);
  }
}
