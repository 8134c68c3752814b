import { setTimeout as sleep } from 'node:timers/promises';
import { ephemeralOwnerOf } from '../coordination/zk-stat.js';
import type { Drill } from './harness.js';
import {
  check,
  podLog,
  seconds,
  servingMaster,
  until,
  waitForNewMaster,
  waitForState,
} from './probes.js';
import { faults, type Scenario } from './scenario.js';

/** The pods that `/nodes` says are master. */
async function mastersInZk(drill: Drill): Promise<string[]> {
  const pods = await drill.admin.getChildren('/nodes');
  const roles = await Promise.all(
    pods.map(async (pod) => {
      const { data } = await drill.admin.getData(`/nodes/${pod}`).catch(() => ({ data: null }));
      return data && (JSON.parse(data.toString('utf8')) as { role?: string }).role === 'master'
        ? [pod]
        : [];
    }),
  );
  return roles.flat();
}

const masterStop: Scenario = {
  id: 'master-sigstop',
  title: 'SIGSTOP the master past its session timeout, then SIGCONT',
  options: { env: { FAULT_INJECTION: faults({ delayMs: { histogram: 2500, equalize: 1500 } }) } },
  async run(drill) {
    const id = await drill.submit();
    await waitForState(drill.admin, id, ['mapping'], 20_000);
    const old = await drill.master();
    const oldPod = drill.cluster.pod(old);
    check(oldPod, `pod ${old} exists`);
    const stoppedAt = Date.now();
    oldPod.kill('SIGSTOP');
    let failoverMs: number;
    try {
      ({ ms: failoverMs } = await waitForNewMaster(
        drill.cluster.registryPath,
        drill.url,
        old,
        stoppedAt,
        drill.sessionTimeoutMs + 10_000,
      ));
      await sleep(1_000);
    } finally {
      oldPod.kill('SIGCONT');
    }
    const contAt = Date.now();
    // The old master learns its session is gone, steps down and answers as a worker.
    const stepDownMs = await until(
      `${old} to step down after SIGCONT`,
      async () => {
        const res = await fetch(`${oldPod.url}/api/jobs`).catch(() => null);
        await res?.arrayBuffer();
        return res?.status === 503;
      },
      drill.sessionTimeoutMs + 5_000,
    ).then(() => Date.now() - contAt);
    const record = await drill.expectDone(id);
    const master = await servingMaster(drill.cluster.registryPath, drill.url);
    check(master && master !== old, `the registry names the new master (${master})`);
    const zkMasters = await until(
      'one master in /nodes',
      async () => {
        const m = await mastersInZk(drill);
        return m.length === 1 ? m : null;
      },
      5_000,
    ).catch(async () => mastersInZk(drill));
    check(zkMasters.length === 1 && zkMasters[0] === master, `masters: ${zkMasters.join(', ')}`);
    // Fencing: nothing the old master did after it was stopped reached ZooKeeper.
    const late = (await podLog(drill.logDir, old)).filter(
      (l) => Date.parse(l.time) > stoppedAt && l.job === id && typeof l.state === 'string',
    );
    check(late.length === 0, `the old master committed after losing leadership: ${late[0]?.msg}`);
    check(record.masters.includes(master), 'the new master resumed the job');
    return {
      outcome: `done, exact; old master stepped down ${seconds(stepDownMs)} after SIGCONT`,
      recoveryLabel: 'master failover',
      recoveryMs: failoverMs,
    };
  },
};

/** The session (ephemeralOwner) behind each pod's `/nodes` entry. */
async function ownersOf(drill: Drill, pods: string[]): Promise<Map<string, string | null>> {
  const owners = new Map<string, string | null>();
  for (const pod of pods) {
    const stat = await drill.admin.exists(`/nodes/${pod}`).catch(() => null);
    owners.set(pod, stat ? ephemeralOwnerOf(stat) : null);
  }
  return owners;
}

/** Lines of every pod's log (all incarnations) matching `msg`, after `since`. */
async function logged(drill: Drill, msg: string, since: number) {
  const pods = drill.cluster.pods.map((p) => p.name);
  const lines = (await Promise.all(pods.map((p) => podLog(drill.logDir, p)))).flat();
  return lines.filter((l) => l.msg === msg && Date.parse(l.time) >= since);
}

const zkRestart: Scenario = {
  id: 'zk-restart',
  title: 'ZooKeeper restarted within the session timeout',
  options: { env: { FAULT_INJECTION: faults({ delayMs: { histogram: 2000 } }) } },
  async run(drill) {
    const id = await drill.submit();
    await waitForState(drill.admin, id, ['mapping'], 20_000);
    const downAt = Date.now();
    await drill.zk.restart();
    const restartMs = Date.now() - downAt;
    await until(
      'a master serving again',
      () => servingMaster(drill.cluster.registryPath, drill.url),
      drill.sessionTimeoutMs + 10_000,
      25,
    );
    const ms = Date.now() - downAt;
    await drill.expectDone(id);
    const expired = await logged(drill, 'zk session expired; renewing', downAt);
    if (restartMs < drill.sessionTimeoutMs) {
      check(expired.length === 0, `sessions expired although ZooKeeper was back in time`);
    }
    return {
      outcome: `done, exact; sessions kept (server down ${seconds(restartMs)})`,
      recoveryLabel: 'master serving again',
      recoveryMs: ms,
    };
  },
};

const zkOutage: Scenario = {
  id: 'zk-down-past-timeout',
  title: 'ZooKeeper down longer than the session timeout',
  options: { env: { FAULT_INJECTION: faults({ delayMs: { histogram: 2000 } }) } },
  async run(drill) {
    const id = await drill.submit();
    await waitForState(drill.admin, id, ['mapping'], 20_000);
    const before = await ownersOf(
      drill,
      drill.cluster.pods.map((p) => p.name),
    );
    const downAt = Date.now();
    await drill.zk.kill();
    await sleep(drill.sessionTimeoutMs + 2_000);
    await drill.zk.restart();
    const upAt = Date.now();
    await until(
      'a master serving again',
      () => servingMaster(drill.cluster.registryPath, drill.url),
      2 * drill.sessionTimeoutMs + 10_000,
      25,
    );
    const ms = Date.now() - upAt;
    await drill.expectDone(id, 90_000);
    // Every pod registers again, under a session that is not the one it had before. The job
    // may end before the last pod is back (the others did its share): a pod still between
    // connection attempts gets its bounded while.
    const pods = drill.cluster.pods.map((p) => p.name);
    let after = new Map<string, string | null>();
    await until(
      'every pod registered again under a new session',
      async () => {
        after = await ownersOf(drill, pods);
        return pods.every((p) => after.get(p) && after.get(p) !== before.get(p));
      },
      2 * drill.sessionTimeoutMs + 10_000,
      100,
    ).catch(() =>
      check(
        false,
        `re-registered with new sessions: ${pods.map((p) => `${p} ${after.get(p)}`).join(', ')}`,
      ),
    );
    const renewed = new Set(
      (await logged(drill, 'zk session expired; renewing', downAt)).map((l) => l.pod),
    );
    return {
      outcome: `done, exact; ${renewed.size}/${pods.length} pods renewed their session`,
      recoveryLabel: 'master serving after ZooKeeper is back',
      recoveryMs: ms,
    };
  },
};

export const COORDINATION_SCENARIOS: Scenario[] = [masterStop, zkRestart, zkOutage];
