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
  /**
   * `lzw`: the drill needs a page the tasks decode and encode (an LZW TIFF, whose result an
   * assemble task joins); otherwise it runs on the raw TIFF.
   */
  image?: 'lzw';
  run(drill: Drill): Promise<ScenarioResult>;
}

export const faults = (spec: object): string => JSON.stringify(spec);

/** What a drill runs on besides its fault: an image kind and more environment. */
export type DrillVariant = Pick<Scenario, 'image'> & { env?: Record<string, string> };

/**
 * The assembler drills' variant: a page whose result an assemble task joins, and a master that
 * keeps its threads to itself, so a worker assembles (and the master never does).
 */
export const ASSEMBLER: DrillVariant = { image: 'lzw', env: { MASTER_TAKES_TASKS: 'false' } };

/** A drill's image and options: `variant`, with `fault` injected (FAULT_INJECTION). */
export function drillSetup(
  variant: DrillVariant,
  fault: object,
): Pick<Scenario, 'image' | 'options'> {
  return {
    ...(variant.image ? { image: variant.image } : {}),
    options: { env: { ...variant.env, FAULT_INJECTION: faults(fault) } },
  };
}
