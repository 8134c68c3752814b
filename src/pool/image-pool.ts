import { Piscina } from 'piscina';
import { HisteqError, type ErrorCode } from '../common/errors.js';
import type { ClaheBand, ClaheParams } from '../imaging/clahe/grid.js';
import type { ImageInfo } from '../imaging/image-info.js';
import type { ColourMode, PixelLayout } from '../imaging/types.js';
import { cancelFlagFor } from './cancel-flag.js';
import { oneAtATime, postedValue, runsInline } from './inline-work.js';
import type {
  AssembleRequest,
  AssembleResult,
  EqualizeRequest,
  EqualizeResult,
  HistogramRequest,
  HistogramResult,
  LutResult,
  PoolError,
  PoolRequest,
  PoolResults,
  PoolWorkerData,
  PreviewRequest,
  PreviewResult,
  StageResult,
  StitchResult,
  StripRef,
  VerifyRequest,
  VerifyResult,
} from './protocol.js';

export interface ImagePoolOptions {
  /** Worker threads. Resolve it from configuration (CPU limit), not from the host's cores. */
  threads: number;
  /** Niceness of the threads (0–19, default 0): pixel work yields the CPU to the event loop. */
  nice?: number;
}

export interface PoolStats {
  threads: number;
  /** Fraction of the pool's capacity used since it started (0…1). */
  utilization: number;
  completed: number;
  queued: number;
  /** Threads working on a request now. */
  busy: number;
}

/** The optional parts of a histogram request, and the signal that cancels it. */
export interface HistogramOptions {
  clahe?: ClaheBand;
  preview?: HistogramRequest['preview'];
  keepDecoded?: string;
  signal?: AbortSignal;
}

const WORKER_URL = new URL('./worker.js', import.meta.url).href;

/**
 * One piscina pool per pod. Threads are fixed (min = max) and never idle out: piscina's default
 * idle timeout kills threads at once, and re-spawning one (re-loading sharp) costs more than a
 * histogram. The queue is unbounded here: callers bound their own concurrency (a pod claims
 * only as many tasks as it has threads; the CLI submits one job's strips).
 */
export class ImagePool {
  readonly #pool: Piscina;
  #inFlight = 0;
  #closed: Promise<void> | undefined;

  private constructor(options: ImagePoolOptions) {
    this.#pool = new Piscina({
      filename: WORKER_URL,
      // The export piscina looks up when a thread starts. Its default, 'default', is not one of
      // ours, so piscina would also import() the file it had just require()d; Node 20 can abort
      // (v8::Module::IsGraphAsync) when require() and import() load one module at once.
      name: 'histogram',
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      workerData: { nice: options.nice ?? 0 } satisfies PoolWorkerData,
    });
  }

  static create(options: ImagePoolOptions): ImagePool {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new RangeError(`pool threads must be a positive integer, got ${options.threads}`);
    }
    return new ImagePool(options);
  }

  stage(inputPath: string, info: ImageInfo, outPath: string): Promise<StageResult> {
    return this.#run({ kind: 'stage', inputPath, info, outPath });
  }

  /**
   * `clahe`: the band's per-tile histograms (serialized) instead of one histogram. `preview`,
   * `keepDecoded`: see HistogramRequest. `signal` aborting stops the work at its next chunk
   * (CANCELLED).
   */
  histogram(
    source: StripRef,
    mode: ColourMode,
    options: HistogramOptions = {},
  ): Promise<Uint32Array> {
    return this.histogramOnThread(source, mode, options).then((r) => r.histogram);
  }

  /** As histogram(), with the pool thread that counted (a task's attempt records it). */
  histogramOnThread(
    source: StripRef,
    mode: ColourMode,
    options: HistogramOptions = {},
  ): Promise<HistogramResult> {
    const { clahe, preview, keepDecoded, signal } = options;
    return this.#cancellable(signal, (cancel) =>
      this.#run({
        kind: 'histogram',
        source,
        mode,
        cancel,
        ...(clahe ? { clahe } : {}),
        ...(preview ? { preview } : {}),
        ...(keepDecoded ? { keepDecoded } : {}),
      }),
    );
  }

  /**
   * Histograms are moved to the worker: the caller must not use them afterwards. With `clahe`
   * they are CLAHE bands and the result's `lut` is every tile's table.
   */
  lut(
    histograms: Uint32Array[],
    layout: PixelLayout,
    mode: ColourMode,
    clahe?: ClaheParams,
  ): Promise<LutResult> {
    const transfer = histograms.map((h) => h.buffer as ArrayBuffer);
    const request = { kind: 'lut', histograms, layout, mode, ...(clahe ? { clahe } : {}) } as const;
    return this.#run(request, unique(transfer));
  }

  /** `signal` aborting stops the work at its next chunk (CANCELLED). */
  equalize(
    request: Omit<EqualizeRequest, 'kind' | 'cancel'>,
    signal?: AbortSignal,
  ): Promise<EqualizeResult> {
    return this.#cancellable(signal, (cancel) =>
      this.#run({ kind: 'equalize', ...request, cancel }),
    );
  }

  stitch(
    strips: string[],
    info: ImageInfo,
    outPath: string,
    checksums?: string[],
  ): Promise<StitchResult> {
    return this.#run({ kind: 'stitch', strips, info, outPath, checksums });
  }

  /** The result TIFF of a chunked page, from its equalized bands (see AssembleRequest). */
  assemble(request: Omit<AssembleRequest, 'kind'>): Promise<AssembleResult> {
    return this.#run({ kind: 'assemble', ...request });
  }

  /** Preview samples of a whole image (about a thousand rows read), before and after the LUT. */
  preview(request: Omit<PreviewRequest, 'kind'>): Promise<PreviewResult> {
    return this.#run({ kind: 'preview', ...request });
  }

  /** Checks one equalized strip (see VerifyRequest); a mismatch is a result, not an error. */
  verify(request: Omit<VerifyRequest, 'kind'>): Promise<VerifyResult> {
    return this.#run({ kind: 'verify', ...request });
  }

  get stats(): PoolStats {
    return {
      threads: this.#pool.threads.length,
      utilization: this.#pool.utilization,
      completed: this.#pool.completed,
      queued: this.#pool.queueSize,
      // Requests submitted and not settled, less those still waiting for a thread.
      busy: Math.max(0, Math.min(this.#pool.threads.length, this.#inFlight - this.#pool.queueSize)),
    };
  }

  /** Idempotent; waits for running tasks to settle. */
  close(): Promise<void> {
    this.#closed ??= this.#pool.close();
    return this.#closed;
  }

  async #cancellable<R>(
    signal: AbortSignal | undefined,
    run: (cancel: Int32Array | undefined) => Promise<R>,
  ): Promise<R> {
    if (!signal) return run(undefined);
    const { flag, dispose } = cancelFlagFor(signal);
    try {
      return await run(flag);
    } finally {
      dispose();
    }
  }

  /** The result type follows from the request's kind (protocol.ts), one export per kind. */
  async #run<K extends PoolRequest['kind']>(
    request: Extract<PoolRequest, { kind: K }>,
    transferList?: ArrayBuffer[],
  ): Promise<PoolResults[K]> {
    // Inline work runs on this thread, not a pool thread: it is not counted as busy.
    const inline = runsInline(request);
    if (!inline) this.#inFlight++;
    try {
      if (inline) {
        const handlers = (await import(WORKER_URL)) as Record<K, (r: typeof request) => unknown>;
        const result = await oneAtATime(async () => handlers[request.kind](request));
        return postedValue(result) as PoolResults[K];
      }
      return (await this.#pool.run(request, {
        name: request.kind,
        transferList,
      })) as PoolResults[K];
    } catch (err) {
      if (isPoolError(err)) throw new HisteqError(err.code as ErrorCode, err.message);
      throw err;
    } finally {
      if (!inline) this.#inFlight--;
    }
  }
}

function unique(buffers: ArrayBuffer[]): ArrayBuffer[] {
  return [...new Set(buffers)];
}

function isPoolError(err: unknown): err is PoolError {
  return (
    typeof err === 'object' &&
    err !== null &&
    !(err instanceof Error) &&
    typeof (err as PoolError).code === 'string' &&
    typeof (err as PoolError).message === 'string'
  );
}
