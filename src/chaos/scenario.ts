import type { Drill, DrillOptions } from './harness.js';

/** What a drill measured: the outcome in words and the recovery time it is judged by. */
export interface ScenarioResult {
  outcome: string;
  /** e.g. "master failover"; printed as `recovery: <label> <seconds>`. */
  recoveryLabel: string;
  recoveryMs: number;
}

/**
 * One fault drill (docs/architecture.md, Failure model): the cluster it needs (pods, fault injection, timeouts) and the
 * run, which injects the fault, measures the recovery and throws a DrillFailure when a
 * guarantee is broken (lost job, inexact result, ghost state, late failover).
 */
export interface Scenario {
  id: string;
  title: string;
  options: DrillOptions;
  run(drill: Drill): Promise<ScenarioResult>;
}

export const faults = (spec: object): string => JSON.stringify(spec);
