import { readFileSync } from 'node:fs';

/** Jiffies of all CPUs from /proc/stat's first line: total and stolen by the hypervisor. */
export interface CpuTimes {
  total: number;
  steal: number;
}

export function cpuTimes(): CpuTimes | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    // cpu user nice system idle iowait irq softirq steal [guest guest_nice: counted in user]
    const values = fields.slice(1, 9).map(Number);
    return { total: values.reduce((a, b) => a + b, 0), steal: values[7] ?? 0 };
  } catch {
    return null; // not Linux
  }
}

/**
 * The share of the machine's CPU time the hypervisor gave to other guests between two readings
 * (0…1). On a shared VM the same command runs up to 2–3× slower in a period of high steal, so
 * every section of the bench reports it next to its figures.
 */
export function stealShare(before: CpuTimes | null, after: CpuTimes | null): number | null {
  if (!before || !after || after.total <= before.total) return null;
  return (after.steal - before.steal) / (after.total - before.total);
}

export const formatSteal = (share: number | null) =>
  share === null ? 'steal n/a' : `CPU steal ${(share * 100).toFixed(0)} %`;
