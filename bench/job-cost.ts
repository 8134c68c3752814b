import { readFileSync } from 'node:fs';
import { scrapeAll } from './cluster.js';

/**
 * What a batch of jobs cost the cluster, per job: ZooKeeper requests (by pod, master first, and
 * by operation), pods' CPU time and the ZooKeeper server's CPU time. Load moves these far less
 * than wall time, so they compare runs made on a busy machine.
 */
export interface JobCost {
  zkOpsPerJob: number;
  /** ZooKeeper requests per job by pod role: `master`, then `worker1`… in the registry's order. */
  zkOpsByPod: Record<string, number>;
  zkOpsByOp: Record<string, number>;
  podCpuMsPerJob: number;
  /** Pod CPU per job by role, as zkOpsByPod. */
  podCpuMsByPod: Record<string, number>;
  /** null where the server's process could not be read (not on Linux). */
  zkCpuMsPerJob: number | null;
}

interface Sample {
  master: string | null;
  metrics: Map<string, string>;
  zkCpuMs: number | null;
}

export async function sampleCost(url: string, zkPid: number | undefined): Promise<Sample> {
  const { master, metrics } = await scrapeAll(url);
  return { master, metrics, zkCpuMs: processCpuMs(zkPid) };
}

export function jobCost(before: Sample, after: Sample, jobs: number): JobCost {
  const byPod: Record<string, number> = {};
  const byOp: Record<string, number> = {};
  const cpuByPod: Record<string, number> = {};
  let ops = 0;
  let cpuSeconds = 0;
  let worker = 0;
  const pods = [...after.metrics.keys()].sort((a, b) =>
    a === after.master ? -1 : b === after.master ? 1 : 0,
  );
  for (const pod of pods) {
    const now = parse(after.metrics.get(pod) ?? '');
    const then = parse(before.metrics.get(pod) ?? '');
    let podOps = 0;
    for (const [op, n] of now.ops) {
      const d = n - (then.ops.get(op) ?? 0);
      byOp[op] = (byOp[op] ?? 0) + d / jobs;
      podOps += d;
    }
    ops += podOps;
    const role = pod === after.master ? 'master' : `worker${++worker}`;
    byPod[role] = round(podOps / jobs);
    cpuByPod[role] = Math.round(((now.cpuSeconds - then.cpuSeconds) * 1000) / jobs);
    cpuSeconds += now.cpuSeconds - then.cpuSeconds;
  }
  const zkCpu =
    before.zkCpuMs !== null && after.zkCpuMs !== null ? after.zkCpuMs - before.zkCpuMs : null;
  return {
    zkOpsPerJob: round(ops / jobs),
    zkOpsByPod: byPod,
    zkOpsByOp: Object.fromEntries(Object.entries(byOp).map(([op, n]) => [op, round(n)])),
    podCpuMsPerJob: Math.round((cpuSeconds * 1000) / jobs),
    podCpuMsByPod: cpuByPod,
    zkCpuMsPerJob: zkCpu === null ? null : Math.round(zkCpu / jobs),
  };
}

export function formatCost(c: JobCost): string {
  const pods = Object.entries(c.zkOpsByPod)
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  const ops = Object.entries(c.zkOpsByOp)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');
  const zk = c.zkCpuMsPerJob === null ? '' : `, ZooKeeper CPU ${c.zkCpuMsPerJob} ms`;
  return (
    `  per job: ZooKeeper ops ${c.zkOpsPerJob} (${pods}; ${ops}); ` +
    `pod CPU ${c.podCpuMsPerJob} ms (${Object.values(c.podCpuMsByPod).join(' + ')})${zk}`
  );
}

function parse(text: string): { ops: Map<string, number>; cpuSeconds: number } {
  const ops = new Map<string, number>();
  let cpuSeconds = 0;
  for (const line of text.split('\n')) {
    const value = Number(line.split(' ').pop());
    if (!Number.isFinite(value)) continue;
    if (line.startsWith('histeq_zookeeper_operations_total{')) {
      const op = /op="([^"]*)"/.exec(line)?.[1] ?? '?';
      ops.set(op, (ops.get(op) ?? 0) + value);
    } else if (/^histeq_process_process_cpu_(user|system)_seconds_total[ {]/.test(line)) {
      cpuSeconds += value;
    }
  }
  return { ops, cpuSeconds };
}

/** User + system CPU of a process and its threads (ms), from /proc; null if unreadable. */
function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the name).
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100;
  } catch {
    return null;
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
