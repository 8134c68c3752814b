import type { DoneRecord } from '../../coordination/index.js';
import { hasRawPixels, type ImageInfo } from '../../imaging/codec.js';
import type { ImagePool } from '../../pool/image-pool.js';
import type { StripRef } from '../../pool/protocol.js';
import type { SharedLayout } from '../paths.js';
import { RawInPlace } from './raw-in-place.js';
import { Staged } from './staged.js';

/** Where one equalize task writes its strip, relative to SHARED_DIR. */
export interface StripOutput {
  path: string;
  /** Set: the strip is written at this byte offset of an existing file (in place). */
  offset?: number;
}

/**
 * How a job's pixels are read and written, decided once per job from its probe and used by the
 * master (upload, runner), the task payloads and the CLI alike. Every method is idempotent, so a
 * resumed job simply calls it again.
 */
export interface JobStorage {
  readonly kind: 'raw in place' | 'staged';
  /** The whole image's samples, relative to SHARED_DIR (tasks read their strips from it). */
  readonly source: StripRef;
  /** Bytes the job writes to shared storage besides the upload (for the room check). */
  readonly extraBytes: number;
  /** Makes `source` readable: nothing to do in place; one decode to a raw file when staged. */
  prepareSource(pool: ImagePool): Promise<void>;
  /** Before the equalize tasks: where each of the `strips` goes, by strip index. */
  prepareOutputs(strips: readonly StripRef[]): Promise<StripOutput[]>;
  /**
   * Before the check: the strips' bytes where the done records point. A master that died after
   * finishing but before marking the job done may have moved them (raw in place: the container
   * was renamed to the result); this puts them back so the check, and any re-run, find them.
   */
  beforeCheck(resultPath: string): Promise<void>;
  /** After every strip passed the check: the result at `resultPath` (absolute). */
  finish(pool: ImagePool, dones: readonly DoneRecord[], resultPath: string): Promise<void>;
}

/** The storage of job `id`: raw in place when the page's samples lie in the file as decoded. */
export function storageFor(
  shared: SharedLayout,
  id: string,
  upload: string,
  info: ImageInfo,
): JobStorage {
  return hasRawPixels(info)
    ? new RawInPlace(shared, id, upload, info)
    : new Staged(shared, id, upload, info);
}
