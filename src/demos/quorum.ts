import { HisteqError } from '../common/errors.js';
import {
  INITIAL,
  inspect,
  readQuorum,
  writeQuorum,
  type QuorumParams,
  type ReadOutcome,
  type ReplicaState,
  type WriteOutcome,
} from './quorum-protocol.js';
import { Replica } from './quorum-replica.js';
import type { DemoReport } from './result.js';
import { DEMOS_ROOT, type DemoRuntime } from './runtime.js';

export const QUORUM_ROOT = `${DEMOS_ROOT}/quorum`;

export interface QuorumOptions extends QuorumParams {
  /** Replicas taken offline (the highest-numbered ones) before the write. */
  down: number;
}

export const QUORUM_DEFAULTS = { n: 5, w: 3, r: 3, down: 0, value: 'updated' } as const;
export const MAX_REPLICAS = 15;

export interface QuorumReport extends DemoReport {
  demo: 'quorum';
  n: number;
  w: number;
  r: number;
  down: number;
  seed: number;
  /** R + W > N: every read quorum overlaps every write quorum. */
  overlapGuaranteed: boolean;
  warning: string | null;
  downReplicas: string[];
  write: WriteOutcome;
  read: ReadOutcome;
  replicas: ReplicaState[];
  partialWriteVisible: boolean;
  staleReadDemonstrated: boolean;
}

const GUARANTEE =
  'A write commits only with W acknowledgements (else nothing changes), and with R + W > N every read returns the newest committed version.';

/** Clear sentences for flag combinations that cannot work; checked before connecting. */
export function validateQuorumOptions(o: QuorumOptions): void {
  const problems: string[] = [];
  if (o.n < 1 || o.n > MAX_REPLICAS) {
    problems.push(
      `--n ${o.n} must be between 1 and ${MAX_REPLICAS} (each replica opens its own ZooKeeper session).`,
    );
  }
  if (o.w < 1 || o.w > o.n) {
    problems.push(
      `--w ${o.w} must be between 1 and --n ${o.n}: a write cannot collect more acknowledgements than there are replicas.`,
    );
  }
  if (o.r < 1 || o.r > o.n) {
    problems.push(
      `--r ${o.r} must be between 1 and --n ${o.n}: a read cannot ask more replicas than there are.`,
    );
  }
  if (o.down < 0 || o.down >= o.n) {
    problems.push(
      `--down ${o.down} must be less than --n ${o.n}: leave at least one replica running.`,
    );
  }
  if (problems.length > 0) throw new HisteqError('BAD_REQUEST', problems.join(' '));
}

/** `histeq demo quorum`: Gifford's weighted voting with N replicas, W and R quorums. */
export async function runQuorum(rt: DemoRuntime, o: QuorumOptions): Promise<QuorumReport> {
  validateQuorumOptions(o);
  const say = rt.narrator;
  say.phase(
    `Gifford quorum replication: N=${o.n}, W=${o.w}, R=${o.r}, ${o.down} down, seed ${o.seed}`,
  );
  const overlapGuaranteed = o.r + o.w > o.n;
  const warning = overlapGuaranteed
    ? null
    : `R + W = ${o.r + o.w} ≤ N = ${o.n}: a read quorum need not overlap the write quorum, so a read can miss the latest write.`;
  if (warning) say.warn('demo', warning);
  else
    say.say(
      'demo',
      `R + W = ${o.r + o.w} > N = ${o.n}: every read quorum overlaps every write quorum`,
    );

  const coordinator = await rt.openSession('coordinator');
  await rt.removeDemoTree(QUORUM_ROOT); // leftovers of an interrupted run
  const cleanUp = rt.defer('remove the quorum demo state', () => rt.removeDemoTree(QUORUM_ROOT));
  try {
    await coordinator.ensurePath(`${QUORUM_ROOT}/live`);
    const sessions = await Promise.all(
      Array.from({ length: o.n }, (_, i) => rt.openSession(`replica_${i + 1}`)),
    );
    const replicas = await Promise.all(
      sessions.map((s, i) => Replica.start(s, QUORUM_ROOT, i + 1, INITIAL)),
    );
    say.say('demo', `${o.n} replicas up, each with its own session, all at v1 "${INITIAL.value}"`);

    const downed = replicas.slice(o.n - o.down);
    for (const replica of downed) {
      await replica.goDown();
      say.warn(replica.name, 'goes offline (session closed; its liveness node vanishes)');
    }
    const live = await coordinator.getChildren(`${QUORUM_ROOT}/live`);
    say.say('coordinator', `live replicas per ZooKeeper: ${live.sort(byIndex).join(', ')}`);

    const write = await writeQuorum(rt, replicas, o);
    const read = await readQuorum(rt, replicas, o, write);
    const state = await inspect(coordinator, replicas);
    return conclude(rt, o, { overlapGuaranteed, warning, downed, write, read, state });
  } finally {
    await cleanUp();
  }
}

function conclude(
  rt: DemoRuntime,
  o: QuorumOptions,
  parts: {
    overlapGuaranteed: boolean;
    warning: string | null;
    downed: Replica[];
    write: WriteOutcome;
    read: ReadOutcome;
    state: ReplicaState[];
  },
): QuorumReport {
  const { write, read, state } = parts;
  const say = rt.narrator;
  say.phase('replica state');
  for (const s of state) {
    say.say(
      s.name,
      `${s.up ? 'up  ' : 'down'} v${s.version} "${s.value}"${s.pending ? ' (pending!)' : ''}`,
    );
  }
  const atNew = state.filter((s) => s.version === write.version).length;
  const anyPending = state.some((s) => s.pending);
  // Refused: no replica may show it. Committed: at least the W of the write set hold it.
  const partialWriteVisible = anyPending || (write.refused ? atNew > 0 : atNew < o.w);
  const ok = !partialWriteVisible && !read.stale;
  const staleReadDemonstrated = read.stale && !parts.overlapGuaranteed;
  let verdict: string;
  if (partialWriteVisible)
    verdict =
      'A partial write is visible: the write was neither fully committed nor fully refused.';
  else if (read.stale)
    verdict = `With R + W ≤ N the read missed the write set and returned stale v${read.returnedVersion}.`;
  else if (write.refused)
    verdict = `The write was refused (${write.acks.length} < W=${o.w} acks) and no replica changed.`;
  else
    verdict = `The write committed with W=${o.w} acks and ${read.performed ? `the read returned v${read.returnedVersion}` : 'no read quorum was available'}.`;
  if (ok) say.good('demo', verdict);
  else say.bad('demo', verdict);
  return {
    demo: 'quorum',
    ok,
    guarantee: GUARANTEE,
    verdict,
    n: o.n,
    w: o.w,
    r: o.r,
    down: o.down,
    seed: o.seed,
    overlapGuaranteed: parts.overlapGuaranteed,
    warning: parts.warning,
    downReplicas: parts.downed.map((r) => r.name),
    write,
    read,
    replicas: state,
    partialWriteVisible,
    staleReadDemonstrated,
  };
}

function byIndex(a: string, b: string): number {
  return Number(a.split('_')[1]) - Number(b.split('_')[1]);
}
