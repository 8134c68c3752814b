import { ACL, CreateMode, Id, Permission } from 'node-zookeeper-client';
import type { Client, Transaction } from 'node-zookeeper-client';
import { checkRequestSize, requestBytes, toZkError, ZkError, zkCodeOf } from './zk-errors.js';
import type { ZkStat } from './zk-stat.js';

export type ZkCreateMode =
  'persistent' | 'ephemeral' | 'persistent_sequential' | 'ephemeral_sequential';

export const CREATE_MODES: Readonly<Record<ZkCreateMode, number>> = {
  persistent: CreateMode.PERSISTENT,
  ephemeral: CreateMode.EPHEMERAL,
  persistent_sequential: CreateMode.PERSISTENT_SEQUENTIAL,
  ephemeral_sequential: CreateMode.EPHEMERAL_SEQUENTIAL,
};

/** Znode payloads: strings are stored as UTF-8. */
export type ZkData = Buffer | string;

/** ZooKeeper's default ACL: anyone may do anything (used when ZK_AUTH is not set). */
export const OPEN_ACL: ACL[] = [new ACL(Permission.ALL, new Id('world', 'anyone'))];
/** With ZK_AUTH: only the identity that created a node (the digest user) may use it. */
export const CREATOR_ACL: ACL[] = [new ACL(Permission.ALL, new Id('auth', ''))];

/** One operation of a multi-op; `version` -1 (the default) matches any version. */
export type ZkOp =
  | { op: 'check'; path: string; version: number }
  | { op: 'create'; path: string; data?: ZkData; mode?: ZkCreateMode }
  | { op: 'setData'; path: string; data: ZkData; version?: number }
  | { op: 'remove'; path: string; version?: number };

export type ZkOpResult =
  | { op: 'check' }
  | { op: 'create'; path: string }
  | { op: 'setData'; stat: ZkStat }
  | { op: 'remove' };

export function toBuffer(data: ZkData | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Collects operations and commits them atomically: all apply or none does. */
export class ZkMulti {
  readonly #ops: ZkOp[] = [];
  readonly #commit: (ops: ZkOp[]) => Promise<ZkOpResult[]>;

  constructor(commit: (ops: ZkOp[]) => Promise<ZkOpResult[]>) {
    this.#commit = commit;
  }

  check(path: string, version: number): this {
    return this.add({ op: 'check', path, version });
  }

  create(path: string, data?: ZkData, mode?: ZkCreateMode): this {
    return this.add({ op: 'create', path, data, mode });
  }

  setData(path: string, data: ZkData, version = -1): this {
    return this.add({ op: 'setData', path, data, version });
  }

  remove(path: string, version = -1): this {
    return this.add({ op: 'remove', path, version });
  }

  /** Appends prepared operations, e.g. `election.fence()`. */
  add(...ops: ZkOp[]): this {
    this.#ops.push(...ops);
    return this;
  }

  get ops(): readonly ZkOp[] {
    return this.#ops;
  }

  /** Rejects with a ZkError whose `failedOp` names the first operation the server refused. */
  commit(): Promise<ZkOpResult[]> {
    return this.#commit([...this.#ops]);
  }
}

/** Builds the library transaction, checking its size first (the library never does). */
export function buildTransaction(
  client: Client,
  ops: readonly ZkOp[],
  acls: ACL[] = OPEN_ACL,
): Transaction {
  let total = 0;
  for (const op of ops) {
    const data = op.op === 'create' || op.op === 'setData' ? toBuffer(op.data).length : 0;
    total += requestBytes(op.path, data);
  }
  checkRequestSize(total, 'multi', ops[0]?.path ?? '/');
  const tx = client.transaction();
  for (const op of ops) {
    try {
      switch (op.op) {
        case 'check':
          tx.check(op.path, op.version);
          restoreVersion(tx, op.version);
          break;
        case 'create':
          tx.create(op.path, toBuffer(op.data), acls, CREATE_MODES[op.mode ?? 'persistent']);
          break;
        case 'setData':
          tx.setData(op.path, toBuffer(op.data), op.version ?? -1);
          restoreVersion(tx, op.version ?? -1);
          break;
        case 'remove':
          tx.remove(op.path, op.version ?? -1);
          restoreVersion(tx, op.version ?? -1);
          break;
      }
    } catch (err) {
      throw toZkError(err, `multi ${op.op}`, op.path);
    }
  }
  return tx;
}

/**
 * node-zookeeper-client's Transaction turns version 0 into -1 ("any version": `version || -1`,
 * alexguan/node-zookeeper-client#67), which would silently disable the fencing checks that
 * matter most (a fresh node, an election candidate). Put the requested version back.
 */
function restoreVersion(tx: Transaction, version: number): void {
  if (version !== 0) return;
  const ops = (tx as unknown as { ops?: { version?: unknown }[] }).ops;
  const last = ops?.[ops.length - 1];
  if (!last || last.version !== -1) {
    throw new ZkError(
      'OTHER',
      'node-zookeeper-client Transaction internals changed: cannot send version 0',
    );
  }
  last.version = 0;
}

interface RawResult {
  type: number;
  err?: number;
  path?: string;
  stat?: ZkStat;
}

/** The library's ERROR result type (jute OP_CODES.ERROR). */
const OP_ERROR = -1;

/** Commits and maps the outcome; a refused multi names the first op that failed. */
export function commitTransaction(
  tx: Transaction,
  ops: readonly ZkOp[],
  callback: (err: ZkError | null, results?: ZkOpResult[]) => void,
): void {
  tx.commit((error, rawResults: RawResult[] | undefined) => {
    if (!error) {
      callback(
        null,
        ops.map((op, i) => mapResult(op, rawResults?.[i])),
      );
      return;
    }
    const index = rawResults?.findIndex((r) => r.type === OP_ERROR && r.err !== 0) ?? -1;
    const failed = index >= 0 ? ops[index] : undefined;
    if (!failed || index < 0) {
      callback(toZkError(error, 'multi', ops[0]?.path ?? '/'));
      return;
    }
    const zkCode = zkCodeOf(rawResults?.[index]?.err ?? 0);
    callback(
      new ZkError(
        zkCode,
        `ZooKeeper multi-op refused: op #${index} (${failed.op} ${failed.path}) failed with ${zkCode}`,
        { path: failed.path, failedOp: { index, op: failed.op, path: failed.path }, cause: error },
      ),
    );
  });
}

function mapResult(op: ZkOp, raw: RawResult | undefined): ZkOpResult {
  switch (op.op) {
    case 'create':
      return { op: 'create', path: raw?.path ?? op.path };
    case 'setData':
      return { op: 'setData', stat: raw?.stat as ZkStat };
    default:
      return { op: op.op };
  }
}
