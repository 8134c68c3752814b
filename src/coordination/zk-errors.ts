import { Exception } from 'node-zookeeper-client';
import { HisteqError, type ErrorCode } from '../common/errors.js';

/**
 * What went wrong, in ZooKeeper's own words (the library's Exception names), plus the few
 * failures this layer adds: our own deadline, a closed session, oversized data.
 */
export type ZkErrorCode =
  | 'NO_NODE'
  | 'NODE_EXISTS'
  | 'BAD_VERSION'
  | 'NOT_EMPTY'
  | 'NO_CHILDREN_FOR_EPHEMERALS'
  | 'CONNECTION_LOSS'
  | 'SESSION_EXPIRED'
  | 'OPERATION_TIMEOUT'
  | 'SESSION_CLOSED'
  | 'DATA_TOO_LARGE'
  | 'BAD_ARGUMENTS'
  | 'NO_AUTH'
  | 'OPEN_ACL' // a node we rely on is open to other identities and cannot be closed
  | 'OTHER';

/**
 * The server refuses any request larger than jute.maxbuffer (1 MiB − 1 byte by default) and
 * drops the whole connection when it sees one, so we refuse such requests before sending.
 */
export const ZK_MAX_REQUEST_BYTES = 0xfffff;

/** Headroom for a request's own fields (header, path length, ACL, flags, multi header). */
const REQUEST_OVERHEAD_BYTES = 64;

/** The most data a single create/setData of `path` can carry. */
export function maxDataBytes(path: string): number {
  return ZK_MAX_REQUEST_BYTES - REQUEST_OVERHEAD_BYTES - Buffer.byteLength(path);
}

/** Request bytes an operation on `path` with `dataBytes` of data costs (for multi-op totals). */
export function requestBytes(path: string, dataBytes: number): number {
  return dataBytes + REQUEST_OVERHEAD_BYTES + Buffer.byteLength(path);
}

/** Where a failed operation sat in a multi-op, so callers can tell which check failed. */
export interface ZkFailedOp {
  index: number;
  op: string;
  path: string;
}

/** A ZooKeeper operation failed. Branch on `zkCode` (or on the coarser `code`). */
export class ZkError extends HisteqError {
  readonly zkCode: ZkErrorCode;
  readonly path: string | undefined;
  /** Set for multi-ops: the first operation the server refused. */
  readonly failedOp: ZkFailedOp | undefined;

  constructor(
    zkCode: ZkErrorCode,
    message: string,
    details: { path?: string; failedOp?: ZkFailedOp; cause?: unknown } = {},
  ) {
    super(coarseCode(zkCode), message, { cause: details.cause });
    this.name = 'ZkError';
    this.zkCode = zkCode;
    this.path = details.path;
    this.failedOp = details.failedOp;
  }
}

function coarseCode(zkCode: ZkErrorCode): ErrorCode {
  switch (zkCode) {
    case 'NO_NODE':
      return 'NOT_FOUND';
    case 'SESSION_EXPIRED':
    case 'SESSION_CLOSED':
      return 'ZK_SESSION_EXPIRED';
    case 'CONNECTION_LOSS':
    case 'OPERATION_TIMEOUT':
      return 'ZK_TIMEOUT';
    case 'DATA_TOO_LARGE':
      return 'ZK_DATA_TOO_LARGE';
    default:
      return 'ZK_ERROR';
  }
}

const KNOWN: ReadonlyMap<number, ZkErrorCode> = new Map([
  [Exception.NO_NODE, 'NO_NODE'],
  [Exception.NODE_EXISTS, 'NODE_EXISTS'],
  [Exception.BAD_VERSION, 'BAD_VERSION'],
  [Exception.NOT_EMPTY, 'NOT_EMPTY'],
  [Exception.NO_CHILDREN_FOR_EPHEMERALS, 'NO_CHILDREN_FOR_EPHEMERALS'],
  [Exception.CONNECTION_LOSS, 'CONNECTION_LOSS'],
  [Exception.SESSION_EXPIRED, 'SESSION_EXPIRED'],
  [Exception.OPERATION_TIMEOUT, 'OPERATION_TIMEOUT'],
  [Exception.BAD_ARGUMENTS, 'BAD_ARGUMENTS'],
  [Exception.NO_AUTH, 'NO_AUTH'],
]);

/** The ZooKeeper error code for a numeric code from the wire (multi-op results). */
export function zkCodeOf(code: number): ZkErrorCode {
  return KNOWN.get(code) ?? 'OTHER';
}

/**
 * Wraps whatever the library gave us: an Exception (has a numeric `code`), or an Error thrown
 * synchronously by its argument asserts (bad path, bad version type).
 */
export function toZkError(err: unknown, op: string, path: string): ZkError {
  if (err instanceof ZkError) return err;
  const raw = (err as { code?: unknown } | null)?.code;
  const zkCode = typeof raw === 'number' ? zkCodeOf(raw) : 'BAD_ARGUMENTS';
  const detail = err instanceof Error ? err.message : String(err);
  return new ZkError(zkCode, `ZooKeeper ${op} ${path} failed: ${zkCode} (${detail})`, {
    path,
    cause: err,
  });
}

/** True when `err` is a ZkError with one of the given ZooKeeper codes. */
export function isZkError(err: unknown, ...codes: ZkErrorCode[]): err is ZkError {
  return err instanceof ZkError && (codes.length === 0 || codes.includes(err.zkCode));
}

/**
 * A node that is not there is an answer, not a failure, wherever the caller says so: `op`'s
 * result, or `missing` when the node (or a parent) does not exist. Other errors pass on.
 */
export async function unlessMissing<T, M>(op: Promise<T>, missing: M): Promise<T | M> {
  try {
    return await op;
  } catch (err) {
    if (isZkError(err, 'NO_NODE')) return missing;
    throw err;
  }
}

/**
 * Failures after which a write may or may not have happened: the request can still be in the
 * library's queue and reach the server later. Creates must be protected against these.
 */
export function isAmbiguous(err: unknown): boolean {
  return isZkError(err, 'CONNECTION_LOSS', 'OPERATION_TIMEOUT');
}

/**
 * Refuses a request the server would refuse (by dropping our connection) or the library would
 * assert on (data over 1 MiB), with a message that says what to do instead.
 */
export function checkRequestSize(bytes: number, op: string, path: string): void {
  if (bytes > ZK_MAX_REQUEST_BYTES) {
    throw new ZkError(
      'DATA_TOO_LARGE',
      `ZooKeeper ${op} ${path}: the request would be ${bytes} bytes, over ZooKeeper's ` +
        `${ZK_MAX_REQUEST_BYTES}-byte (1 MiB) limit; keep large payloads in shared storage ` +
        'and store a pointer in the znode',
      { path },
    );
  }
}
