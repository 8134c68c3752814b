import { open, stat } from 'node:fs/promises';
import type { TaskResult } from '../../coordination/index.js';
import type { Lut, PixelLayout } from '../../imaging/types.js';
import type { ImagePool } from '../../pool/image-pool.js';
import { writeHashedFileAtomic } from '../../pool/strip-io.js';
import { readLut } from '../task-files.js';
import { FaultInjector } from '../fault-injection.js';
import type { SharedLayout } from '../paths.js';
import type { TaskPayload } from '../task-spec.js';
import { PREVIEW_MAX_SIDE } from '../../imaging/preview.js';
import { absoluteAssembly, absoluteRef } from '../storage/job-storage.js';

const LUT_CACHE_SIZE = 4;

/**
 * Runs one claimed task: the pixel work in the pool, the small files (histogram counts) written
 * here. Outputs are written under temporary names and renamed, so a re-run after a crash
 * overwrites cleanly and a reader never sees half a file.
 */
export class TaskExecutor {
  readonly #pool: ImagePool;
  readonly #shared: SharedLayout;
  readonly #faults: FaultInjector;
  // Every equalize task of a job uses the same LUT: read it once per pod.
  readonly #luts = new Map<string, Promise<Lut>>();

  constructor(pool: ImagePool, shared: SharedLayout, faults = FaultInjector.none) {
    this.#pool = pool;
    this.#shared = shared;
    this.#faults = faults;
  }

  /**
   * `attempt` is the claim's attempt number (fault injection picks attempts by it); `signal`
   * aborting (the job was cancelled) stops the pixel work at its next chunk.
   */
  async run(task: TaskPayload, attempt: number, signal?: AbortSignal): Promise<TaskResult> {
    const source = absoluteRef(this.#shared, task.source);
    const output = this.#shared.abs(task.output);
    if (task.kind === 'assemble') return this.#assemble(task, output);
    if (task.kind === 'histogram') {
      const preview = task.preview
        ? { path: this.#shared.abs(task.preview), maxSide: PREVIEW_MAX_SIDE }
        : undefined;
      const keepDecoded = task.decoded ? this.#shared.abs(task.decoded) : undefined;
      const { histogram, thread } = await this.#pool.histogramOnThread(source, task.mode, {
        ...(task.clahe ? { clahe: task.clahe } : {}),
        ...(preview ? { preview } : {}),
        ...(keepDecoded ? { keepDecoded } : {}),
        ...(signal ? { signal } : {}),
      });
      const bytes = new Uint8Array(histogram.buffer, histogram.byteOffset, histogram.byteLength);
      const checksum = await writeHashedFileAtomic(output, bytes);
      return { pointer: task.output, checksum, thread };
    }
    const lut = await this.#lut(task.lut as string, task.source.layout);
    const inPlace = task.outputOffset !== undefined ? { outOffset: task.outputOffset } : {};
    const encoded = task.encoded ? { encoded: true } : {};
    const decoded = task.decoded ? { decoded: this.#shared.abs(task.decoded) } : {};
    const { sha256: checksum, thread } = await this.#pool.equalize(
      {
        source,
        mode: task.mode,
        lut: this.#faults.lutFor(task.kind, task.index, attempt, lut),
        outPath: output,
        ...inPlace,
        ...encoded,
        ...decoded,
        ...(task.clahe ? { clahe: task.clahe } : {}),
      },
      signal,
    );
    if (this.#faults.tearsOutput(task.kind, task.index, attempt)) {
      await tear(output, task.outputOffset ?? 0);
    }
    // `offset`: where the strip's bytes start in `pointer` (the container, for in-place writes).
    return {
      pointer: task.output,
      checksum,
      thread,
      ...(task.outputOffset !== undefined ? { offset: task.outputOffset } : {}),
    };
  }

  /**
   * A chunked page's result from its bands (no pixel work: a directory and the bands' bytes).
   * A band whose bytes are not its task's is named in `mismatched`, and nothing is written:
   * the master re-runs those equalize tasks. The result is held to the bands' checksums, so
   * it records none of its own.
   */
  async #assemble(task: TaskPayload, output: string): Promise<TaskResult> {
    const assembly = absoluteAssembly(this.#shared, task.assembly!);
    const { mismatched, bytes } = await this.#pool.assemble({ ...assembly, outPath: output });
    return { pointer: task.output, checksum: '', mismatched, bytes };
  }

  /**
   * The job's LUT, read once per pod. Keyed by the file's identity (path, size, mtime), not its
   * path alone: a LUT file written again (a reduce that ran again) is a different LUT.
   */
  async #lut(relative: string, layout: PixelLayout): Promise<Lut> {
    const path = this.#shared.abs(relative);
    const { size, mtimeMs } = await stat(path);
    const key = `${relative}:${size}:${mtimeMs}`;
    let lut = this.#luts.get(key);
    if (!lut) {
      lut = readLut(path, layout);
      lut.catch(() => this.#luts.delete(key));
      this.#luts.set(key, lut);
      if (this.#luts.size > LUT_CACHE_SIZE) this.#luts.delete(this.#luts.keys().next().value!);
    }
    return lut;
  }
}

/** Test-only (tornWriteTask): zeroes the first bytes of a strip after it was hashed. */
async function tear(path: string, offset: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    await file.write(new Uint8Array(16).fill(0x5a), 0, 16, offset);
  } finally {
    await file.close();
  }
}
