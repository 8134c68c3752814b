import { COORDINATION_SCENARIOS } from './coordination-scenarios.js';
import { POD_SCENARIOS } from './pod-scenarios.js';
import type { Scenario } from './scenario.js';
import { TASK_SCENARIOS } from './task-scenarios.js';

/** Every fault drill, in the order `npm run chaos` runs them. */
export const SCENARIOS: Scenario[] = [
  ...POD_SCENARIOS,
  ...COORDINATION_SCENARIOS,
  ...TASK_SCENARIOS,
];

export function scenario(id: string): Scenario {
  const found = SCENARIOS.find((s) => s.id === id);
  if (!found) throw new Error(`no drill named ${id}`);
  return found;
}
