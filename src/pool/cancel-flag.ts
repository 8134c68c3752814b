import { HisteqError } from '../common/errors.js';

/**
 * Cancelling pixel work that already runs on a pool thread: the request carries one shared
 * Int32 that the pod's thread sets when the caller's signal aborts, and the pool thread reads
 * between chunks. Cheaper than terminating the thread (which would re-load sharp), and the
 * work stops within one chunk instead of at the end of the strip.
 */
export type CancelFlag = Int32Array;

/** A flag that follows `signal`, and a dispose that stops following it. */
export function cancelFlagFor(signal: AbortSignal): { flag: CancelFlag; dispose: () => void } {
  const flag = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const raise = () => Atomics.store(flag, 0, 1);
  if (signal.aborted) raise();
  signal.addEventListener('abort', raise, { once: true });
  return { flag, dispose: () => signal.removeEventListener('abort', raise) };
}

export function throwIfCancelled(flag: CancelFlag | undefined): void {
  if (flag && Atomics.load(flag, 0) !== 0) {
    throw new HisteqError('CANCELLED', 'The task stopped because its job was cancelled.');
  }
}
