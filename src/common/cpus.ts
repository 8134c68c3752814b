import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * CPUs this process may really use: the affinity mask (availableParallelism) capped by the
 * cgroup v2 CPU quota, because inside a container the host's core count is a lie and a pool
 * sized from it thrashes under the CPU limit.
 */
export function usableCpus(): number {
  const affinity = availableParallelism();
  try {
    const [quota, period] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    if (quota !== 'max') {
      const limit = Math.ceil(Number(quota) / Number(period));
      if (Number.isFinite(limit) && limit >= 1) return Math.min(affinity, limit);
    }
  } catch {
    // No cgroup v2 file (not Linux, or cgroup v1): the affinity mask is the best we know.
  }
  return affinity;
}
