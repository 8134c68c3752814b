import { valueSymbol } from 'piscina';
import { imageBytes } from '../imaging/types.js';
import type { PoolRequest } from './protocol.js';

/**
 * Requests on at most this many bytes of pixels run on the calling thread: a hop through a pool
 * thread costs more than the work (a message each way, and a thread woken at POOL_NICE that a
 * busy machine leaves waiting for many milliseconds). 4 KiB is a 64 × 64 grey 8-bit image:
 * tens of microseconds of work, so the event loop is not held.
 */
export const INLINE_MAX_BYTES = 4096;

/** True for work too small to be worth a pool thread (plain global equalization only). */
export function runsInline(request: PoolRequest): boolean {
  switch (request.kind) {
    case 'histogram':
    case 'equalize':
    case 'verify':
    case 'preview':
      return (
        !request.clahe &&
        request.source.codec === undefined &&
        imageBytes(request.source.layout) <= INLINE_MAX_BYTES
      );
    case 'lut':
      return (
        !request.clahe &&
        request.histograms.reduce((n, h) => n + h.byteLength, 0) <= INLINE_MAX_BYTES
      );
    default:
      return false;
  }
}

let chain: Promise<unknown> = Promise.resolve();

/**
 * Runs `work` once every inline request before it has ended. The handlers assume what a pool
 * thread gives them, one request at a time: they share a reused read buffer (strip-io.ts)
 * across their awaits, so two at once on the main thread would read each other's pixels.
 */
export function oneAtATime<R>(work: () => Promise<R>): Promise<R> {
  const run = chain.then(work);
  chain = run.catch(() => {});
  return run;
}

/** What a pool handler returned, as a pool thread would have posted it (movables unwrapped). */
export function postedValue(result: unknown): unknown {
  if (typeof result === 'object' && result !== null && valueSymbol in result) {
    return (result as Record<symbol, unknown>)[valueSymbol];
  }
  return result;
}
