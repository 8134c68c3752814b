import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { taskPath, type TaskKind } from '../jobs/paths.js';
import type { JobState } from '../jobs/types.js';
import type { Drill } from './harness.js';
import {
  check,
  lockHolders,
  podLog,
  seconds,
  until,
  waitForNewMaster,
  waitForState,
} from './probes.js';
import { ASSEMBLER, drillSetup, faults, type DrillVariant, type Scenario } from './scenario.js';

/** Waits until a pod other than the master holds a lock of the job's `kind` tasks. */
async function busyWorker(
  drill: Drill,
  id: string,
  kind: TaskKind = 'histogram',
): Promise<{ index: number; pod: string }> {
  const master = await drill.master();
  return until(
    `a worker holding a ${kind} task lock`,
    async () => (await lockHolders(drill.admin, id, kind)).find((h) => h.pod !== master),
    20_000,
  );
}

/** Ms until the task has been claimed again (its attempt counter passed `attempt`). */
async function reclaimed(drill: Drill, path: string, attempt: number, since: number) {
  await until(
    `${path} to be claimed again`,
    async () => {
      const { data } = await drill.admin.getData(path);
      return ((JSON.parse(data.toString('utf8')) as { attempt?: number }).attempt ?? 0) > attempt;
    },
    drill.sessionTimeoutMs + 10_000,
    25,
  );
  return Date.now() - since;
}

/** kill -9 the pod that holds a `kind` task of the job (held `delayMs` before it works). */
function workerKillOf(
  id: string,
  title: string,
  kind: TaskKind,
  variant: DrillVariant = {},
): Scenario {
  return {
    id,
    title,
    ...drillSetup(variant, { delayMs: { [kind]: 2500 } }),
    async run(drill) {
      const id = await drill.submit();
      const victim = await busyWorker(drill, id, kind);
      const killedAt = Date.now();
      drill.cluster.killPod(victim.pod, 'SIGKILL');
      const ms = await reclaimed(drill, taskPath(id, kind, victim.index), 1, killedAt);
      check(ms <= drill.sessionTimeoutMs + 2_000, `task claimed again only after ${seconds(ms)}`);
      const record = await drill.expectDone(id);
      const lost = record.attempts.find(
        (a) => a.kind === kind && a.pod === victim.pod && a.index === victim.index,
      );
      check(lost?.outcome === 'lost', `the killed attempt is recorded as lost (${lost?.outcome})`);
      return { outcome: 'done, exact', recoveryLabel: 'task reclaimed', recoveryMs: ms };
    },
  };
}

const workerKill = workerKillOf(
  'worker-kill9',
  'kill -9 a worker holding a task lock',
  'histogram',
);
const assemblerKill = workerKillOf(
  'assembler-kill9',
  'kill -9 the worker assembling the result',
  'assemble',
  ASSEMBLER,
);

const workerTerm: Scenario = {
  id: 'worker-sigterm',
  title: 'SIGTERM a worker mid-task (drain)',
  options: {
    env: { DRAIN_TIMEOUT_MS: '1000', FAULT_INJECTION: faults({ delayMs: { histogram: 4000 } }) },
  },
  async run(drill) {
    const id = await drill.submit();
    const victim = await busyWorker(drill, id);
    const child = drill.cluster.pod(victim.pod)?.process;
    check(child, `${victim.pod} has a process`);
    const exited = once(child, 'exit');
    const termAt = Date.now();
    drill.cluster.killPod(victim.pod, 'SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    const exitMs = Date.now() - termAt;
    check(exitMs <= 1_000 + 2_000, `the pod exited within its grace period (${seconds(exitMs)})`);
    // Its session was closed, not left to time out: its ephemerals are gone already.
    check((await drill.admin.exists(`/nodes/${victim.pod}`)) === null, 'its /nodes entry is gone');
    const holder = (await lockHolders(drill.admin, id, 'histogram')).find(
      (h) => h.index === victim.index,
    );
    check(holder?.pod !== victim.pod, 'its task lock is gone');
    await reclaimed(drill, taskPath(id, 'histogram', victim.index), 1, termAt);
    const record = await drill.expectDone(id);
    const released = record.attempts.find((a) => a.pod === victim.pod && a.index === victim.index);
    check(
      released?.outcome === 'released',
      `the drained attempt is released (${released?.outcome})`,
    );
    return {
      outcome: 'done, exact; task released, session closed, attempt not counted',
      recoveryLabel: 'drained and exited',
      recoveryMs: exitMs,
    };
  },
};

/** Jobs whose committed state changes (the runner's "advance" log lines) for this job. */
async function commits(drill: Drill, id: string, pods: string[]) {
  const lines = (await Promise.all(pods.map((p) => podLog(drill.logDir, p)))).flat();
  return lines.filter((l) => l.job === id && typeof l.state === 'string');
}

/** kill -9 the serving master; ms until another pod serves as master. */
async function killMaster(drill: Drill): Promise<number> {
  const master = await drill.master();
  const killedAt = Date.now();
  drill.cluster.killPod(master, 'SIGKILL');
  const { ms } = await waitForNewMaster(
    drill.cluster.registryPath,
    drill.url,
    master,
    killedAt,
    drill.sessionTimeoutMs + 10_000,
  );
  return ms;
}

const PHASES: JobState[] = ['queued', 'mapping', 'reducing', 'equalizing', 'stitching'];

const masterKills: Scenario = {
  id: 'master-kill9-each-phase',
  title: 'kill -9 the master in every phase of one job',
  options: {
    env: {
      FAULT_INJECTION: faults({
        delayMs: { split: 2000, histogram: 1000, reduce: 2000, equalize: 1000, stitch: 2000 },
      }),
    },
  },
  async run(drill) {
    const id = await drill.submit();
    const failovers: string[] = [];
    let worst = 0;
    for (const phase of PHASES) {
      await waitForState(drill.admin, id, [phase], 30_000);
      const ms = await killMaster(drill);
      check(ms <= drill.sessionTimeoutMs + 2_000, `failover in ${phase} took ${seconds(ms)}`);
      failovers.push(`${phase} ${seconds(ms)}`);
      worst = Math.max(worst, ms);
    }
    const record = await drill.expectDone(id, 90_000);
    check(record.masters.length >= PHASES.length + 1, `masters: ${record.masters.join(', ')}`);
    const pods = drill.cluster.pods.map((p) => p.name);
    const finals = (await commits(drill, id, pods)).filter((l) => l.state === 'done');
    check(finals.length === 1, `the job was finished ${finals.length} times`);
    return {
      outcome: `done once, exact (${failovers.join(', ')})`,
      recoveryLabel: 'worst master failover',
      recoveryMs: worst,
    };
  },
};

const masterKillPublished: Scenario = {
  id: 'master-kill9-after-publish',
  title: 'kill -9 the master after it published the result, before it marked the job done',
  options: { env: { FAULT_INJECTION: faults({ delayMs: { published: 3000 } }) } },
  async run(drill) {
    const id = await drill.submit();
    await waitForState(drill.admin, id, ['stitching'], 30_000);
    const results = join(drill.sharedDir, 'results');
    await until(
      'the result published while the job is still stitching',
      async () =>
        (await readdir(results).catch(() => [] as string[])).some((n) => n.startsWith(id)),
      20_000,
    );
    const ms = await killMaster(drill);
    // The next master checks the published result again (taking it back first) and finishes.
    await drill.expectDone(id, 60_000);
    return {
      outcome: 'done, exact; the next master re-checked the published result',
      recoveryLabel: 'master failover',
      recoveryMs: ms,
    };
  },
};

const masterTerm: Scenario = {
  id: 'master-sigterm',
  title: 'SIGTERM the master mid-job',
  options: { env: { FAULT_INJECTION: faults({ delayMs: { histogram: 3000 } }) } },
  async run(drill) {
    const id = await drill.submit();
    await waitForState(drill.admin, id, ['mapping'], 20_000);
    const master = await drill.master();
    const termAt = Date.now();
    drill.cluster.killPod(master, 'SIGTERM');
    const { ms } = await waitForNewMaster(
      drill.cluster.registryPath,
      drill.url,
      master,
      termAt,
      10_000,
    );
    check(ms <= 1_000, `graceful failover took ${seconds(ms)}`);
    await drill.expectDone(id);
    return { outcome: 'done, exact', recoveryLabel: 'graceful master failover', recoveryMs: ms };
  },
};

export const POD_SCENARIOS: Scenario[] = [
  workerKill,
  assemblerKill,
  workerTerm,
  masterKills,
  masterKillPublished,
  masterTerm,
];
