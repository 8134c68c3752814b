/**
 * The quorum store's protocol, as a coordinator runs it against the replicas: a two-phase
 * write that needs W acknowledgements, a read of R replicas with read repair, and an
 * inspection of what every replica stores.
 */
import { performance } from 'node:perf_hooks';
import { errorMessage } from '../common/errors.js';
import { isZkError, type ZkSession } from '../coordination/index.js';
import { round } from './narration.js';
import { seededRandom } from '../common/random.js';
import { pick, type Replica, type Versioned } from './quorum-replica.js';
import type { DemoRuntime } from './runtime.js';

export interface QuorumParams {
  n: number;
  w: number;
  r: number;
  /** Seeds the random read set, so a run can be replayed. */
  seed: number;
  /** The value written as version 2. */
  value: string;
}

export interface WriteOutcome {
  version: number;
  value: string;
  acks: string[];
  committed: boolean;
  refused: boolean;
  /** The replicas the write was committed on (the first W to acknowledge). */
  writeSet: string[];
}

export interface ReadOutcome {
  performed: boolean;
  /** Why no read quorum could be formed, when it could not. */
  unavailable: string | null;
  readSet: string[];
  versionsRead: Record<string, number>;
  returnedVersion: number | null;
  returnedValue: string | null;
  repaired: string[];
  stale: boolean;
}

export interface ReplicaState {
  name: string;
  up: boolean;
  version: number;
  value: string;
  pending: boolean;
}

export const INITIAL: Versioned = { version: 1, value: 'initial' };

/** Two-phase write: prepare on every replica, commit on the first W acks or abort everywhere. */
export async function writeQuorum(
  rt: DemoRuntime,
  replicas: Replica[],
  o: QuorumParams,
): Promise<WriteOutcome> {
  const say = rt.narrator;
  const value: Versioned = { version: INITIAL.version + 1, value: o.value };
  say.phase(`write v${value.version} "${value.value}": needs W=${o.w} acknowledgements`);
  const startedAt = performance.now();
  const acks: Replica[] = [];
  await Promise.all(
    replicas.map(async (replica) => {
      try {
        await replica.prepare(value);
        acks.push(replica); // in arrival order: the write quorum is whoever answers first
        say.say(
          replica.name,
          `ack: prepared v${value.version} (${round(performance.now() - startedAt)} ms)`,
        );
      } catch (err) {
        const why = isZkError(err, 'SESSION_CLOSED') ? 'down' : errorMessage(err);
        say.say(replica.name, `no ack (${why})`);
      }
    }),
  );
  const names = acks.map((r) => r.name);
  if (acks.length < o.w) {
    await Promise.all(acks.map((r) => r.abort()));
    say.bad(
      'coordinator',
      `only ${acks.length} of W=${o.w} acknowledged: write REFUSED; the ${acks.length} prepared replica(s) discarded it`,
    );
    return {
      version: value.version,
      value: value.value,
      acks: names,
      committed: false,
      refused: true,
      writeSet: [],
    };
  }
  const writeSet = acks.slice(0, o.w);
  const others = acks.slice(o.w);
  await Promise.all(writeSet.map((r) => r.commit()));
  await Promise.all(others.map((r) => r.abort()));
  say.good(
    'coordinator',
    `${acks.length} ≥ W=${o.w} acknowledged: committed v${value.version} on ${writeSet.map((r) => r.name).join(', ')}`,
  );
  if (others.length > 0) {
    say.say(
      'coordinator',
      `${others.map((r) => r.name).join(', ')} were not needed and stay stale until a read repairs them`,
    );
  }
  return {
    version: value.version,
    value: value.value,
    acks: names,
    committed: true,
    refused: false,
    writeSet: writeSet.map((r) => r.name),
  };
}

/** Reads R live replicas, returns the highest version, repairs the stale ones it saw. */
export async function readQuorum(
  rt: DemoRuntime,
  replicas: Replica[],
  o: QuorumParams,
  write: WriteOutcome,
): Promise<ReadOutcome> {
  const say = rt.narrator;
  say.phase(`read: asks R=${o.r} live replicas, returns the highest version`);
  const live = replicas.filter((r) => r.up);
  const none: ReadOutcome = {
    performed: false,
    unavailable: null,
    readSet: [],
    versionsRead: {},
    returnedVersion: null,
    returnedValue: null,
    repaired: [],
    stale: false,
  };
  if (live.length < o.r) {
    const unavailable = `only ${live.length} replicas are live and a read needs R=${o.r}`;
    say.warn('coordinator', `read refused: ${unavailable} (unavailable, but never wrong)`);
    return { ...none, unavailable };
  }
  let readSet: Replica[];
  if (o.r + o.w <= o.n && write.committed) {
    // Deterministic: the live replicas outside the write set, to show what R + W ≤ N allows.
    const missing = live.filter((r) => !write.writeSet.includes(r.name));
    readSet = [...missing, ...live.filter((r) => !missing.includes(r))].slice(0, o.r);
    say.say(
      'coordinator',
      `choosing replicas outside the write set: ${readSet.map((r) => r.name).join(', ')}`,
    );
  } else {
    readSet = pick(live, o.r, seededRandom(o.seed)).sort((a, b) => a.index - b.index);
    say.say(
      'coordinator',
      `random read set (seed ${o.seed}): ${readSet.map((r) => r.name).join(', ')}`,
    );
  }
  const answers = await Promise.all(
    readSet.map(async (r) => ({ replica: r, ...(await r.read()) })),
  );
  for (const a of answers)
    say.say(a.replica.name, `answers v${a.value.version} "${a.value.value}"`);
  const newest = answers.reduce((best, a) => (a.value.version > best.value.version ? a : best));
  const repaired: string[] = [];
  for (const a of answers) {
    if (a.value.version >= newest.value.version) continue;
    await a.replica.repair(newest.value, a.zkVersion);
    repaired.push(a.replica.name);
  }
  if (repaired.length > 0)
    say.say(
      'coordinator',
      `read repair: brought ${repaired.join(', ')} up to v${newest.value.version} "${newest.value.value}"`,
    );
  const latest = write.committed ? write.version : INITIAL.version;
  const stale = newest.value.version < latest;
  if (stale)
    say.bad(
      'coordinator',
      `read returned v${newest.value.version} but v${latest} is committed: STALE READ`,
    );
  else
    say.good(
      'coordinator',
      `read returned v${newest.value.version} "${newest.value.value}", the newest committed version`,
    );
  return {
    performed: true,
    unavailable: null,
    readSet: readSet.map((r) => r.name),
    versionsRead: Object.fromEntries(answers.map((a) => [a.replica.name, a.value.version])),
    returnedVersion: newest.value.version,
    returnedValue: newest.value.value,
    repaired,
    stale,
  };
}

/** What every replica stores now, down ones included (their znodes are their disks). */
export async function inspect(
  coordinator: ZkSession,
  replicas: Replica[],
): Promise<ReplicaState[]> {
  return Promise.all(
    replicas.map(async (r) => {
      const { data } = await coordinator.getData(r.path);
      const stored = JSON.parse(data.toString('utf8')) as Versioned;
      const pending = (await coordinator.exists(`${r.path}/pending`)) !== null;
      return { name: r.name, up: r.up, version: stored.version, value: stored.value, pending };
    }),
  );
}
