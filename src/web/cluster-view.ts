import type { ClusterSnapshot, PodView, WebDeps } from './deps.js';
import { PodHealthProbe, type PodHealth } from './pod-health.js';

/** A pod in GET /api/cluster: the snapshot's entry, its tasks across all jobs, its health. */
export type PodWithHealth = PodView & { tasks: string[]; health: PodHealth };

export type ClusterView = Omit<ClusterSnapshot, 'pods'> & { pods: PodWithHealth[] };

/**
 * The cluster snapshot as GET /api/cluster answers it. The snapshot alone knows only the
 * master's own tasks; every active job's live attempts say what each pod runs now, across all
 * jobs. Health comes from probing the pods.
 */
export function clusterView(deps: WebDeps, cacheMs = 1000): () => Promise<ClusterView> {
  const probe = new PodHealthProbe(deps);
  // Every open page asks every few seconds: one answer serves them all for a moment.
  let cached: { at: number; view: Promise<ClusterView> } | null = null;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at >= cacheMs) {
      const view = build(deps, probe);
      cached = { at: now, view };
      view.catch(() => {
        if (cached?.view === view) cached = null;
      });
    }
    return cached.view;
  };
}

async function build(deps: WebDeps, probe: PodHealthProbe): Promise<ClusterView> {
  const snap = deps.cluster();
  const [running, health] = await Promise.all([runningTasks(deps), probe.health(snap.pods)]);
  return {
    ...snap,
    pods: snap.pods.map((p) => ({
      ...p,
      tasks: [...new Set([...(p.tasks ?? []).map(taskName), ...(running.get(p.pod) ?? [])])].sort(),
      health: health.get(p.pod) ?? { serving: false, ready: null },
    })),
  };
}

/** pod → `<job>/<kind>/<index>` of every running attempt of every active job. */
async function runningTasks(deps: WebDeps): Promise<Map<string, string[]>> {
  const byPod = new Map<string, string[]>();
  const jobs = await deps.jobs.list().catch(() => []);
  const active = jobs.filter((j) => j.state !== 'done' && j.state !== 'failed');
  const views = await Promise.all(active.map((j) => deps.jobs.get(j.id).catch(() => null)));
  for (const view of views) {
    for (const a of view?.attempts ?? []) {
      if (a.outcome !== 'running') continue;
      const list = byPod.get(a.pod) ?? [];
      list.push(`${view!.id}/${a.kind}/${a.index}`);
      byPod.set(a.pod, list);
    }
  }
  return byPod;
}

/** A worker's own task path (`<job>/histograms/task_3`) in the attempts' terms (`<job>/histogram/3`). */
function taskName(path: string): string {
  const match = /^([^/]+)\/(histograms?|equalize|assemble)\/task_(\d+)$/.exec(path);
  if (!match) return path;
  const kind = match[2].startsWith('histogram') ? 'histogram' : match[2];
  return `${match[1]}/${kind}/${Number(match[3])}`;
}
