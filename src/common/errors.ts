/**
 * Typed errors with stable codes. Errors that cross a worker-thread or process boundary lose
 * their class, so callers branch on `code`, never on `instanceof`.
 */
export type ErrorCode =
  | 'BAD_INPUT' // the user's file is not something we can equalize
  | 'UNSUPPORTED_FORMAT'
  | 'TOO_MANY_PIXELS'
  | 'TOO_MANY_BYTES' // decoded samples over MAX_DECODED_BYTES (a decompression bomb)
  | 'BAD_CONFIG'
  | 'BAD_REQUEST'
  | 'NOT_MASTER'
  | 'CLUSTER_DEGRADED'
  | 'ZK_SESSION_EXPIRED'
  | 'ZK_TIMEOUT'
  | 'ZK_ERROR' // a ZooKeeper operation failed; `zkCode` on the ZkError says how (NODE_EXISTS…)
  | 'ZK_DATA_TOO_LARGE' // znode data over the 1 MiB server limit: keep it in shared storage
  | 'LOST_CLAIM'
  | 'NOT_FOUND'
  | 'CONFLICT' // the job is not in a state that allows the action (cancel a finished job…)
  | 'CANCELLED' // the task's job was cancelled: the pool thread stopped between chunks
  | 'INSUFFICIENT_STORAGE' // SHARED_DIR lacks room for an upload and its outputs (507)
  | 'TASK_FAILED'
  | 'BAD_RECORD' // a znode's JSON does not have the shape this version expects
  | 'INTERNAL';

export class HisteqError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HisteqError';
    this.code = code;
  }
}

/** Reads the code of any thrown value, including errors that lost their class on the way. */
export function errorCode(err: unknown): ErrorCode | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return code as ErrorCode;
  }
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
