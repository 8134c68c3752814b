import type { ZkSessionState } from '../coordination/index.js';

export interface ReadinessInputs {
  zkState: ZkSessionState;
  /** Holds the leadership and runs the jobs (election won and orchestrator active). */
  leading: boolean;
  /** This pod may still carry the role=master label (see MasterLabel.mayCarry). */
  mayCarryMasterLabel: boolean;
  /** Shutting down (SIGTERM): draining, about to leave. */
  stopping: boolean;
}

export interface Readiness {
  ready: boolean;
  reason?: string;
}

/**
 * What `/readyz` answers. Kubernetes routes a Service only to ready pods, so this is the second
 * line of defence behind the label itself: a pod that may still carry role=master but no longer
 * leads (demoted, ZooKeeper suspended, or the label removal failed) is not ready, and
 * master-service stops routing to it within one probe period.
 */
export function podReadiness(inputs: ReadinessInputs): Readiness {
  if (inputs.stopping) return { ready: false, reason: 'shutting down' };
  if (inputs.zkState !== 'connected') {
    return { ready: false, reason: `ZooKeeper session is ${inputs.zkState}` };
  }
  if (inputs.mayCarryMasterLabel && !inputs.leading) {
    return {
      ready: false,
      reason: 'not the leader but may still carry role=master; removing the label',
    };
  }
  return { ready: true };
}
