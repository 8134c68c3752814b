import type { DoneRecord } from '../../coordination/index.js';
import { hasCodecPage, hasRawPixels, type ImageInfo } from '../../imaging/image-info.js';
import type { ImagePool } from '../../pool/image-pool.js';
import type { StripRef } from '../../pool/protocol.js';
import type { SharedLayout } from '../paths.js';
import type { Assembly } from '../task-spec.js';
import { ChunkedCodec } from './chunked-codec.js';
import { RawInPlace } from './raw-in-place.js';
import { Staged } from './staged.js';

/** Where one equalize task writes its strip, relative to SHARED_DIR. */
export interface StripOutput {
  path: string;
  /** Set: the strip is written at this byte offset of an existing file (in place). */
  offset?: number;
  /** Set: the strip is encoded like the input's chunks into a band file of its own. */
  encoded?: boolean;
}

/**
 * How a job's pixels are read and written, decided once per job from its probe and used by the
 * master (upload, runner), the task payloads and the CLI alike. Every method is idempotent, so a
 * resumed job simply calls it again.
 */
export interface JobStorage {
  readonly kind: 'raw in place' | 'staged' | 'codec';
  /** The whole image's samples, relative to SHARED_DIR (tasks read their strips from it). */
  readonly source: StripRef;
  /** The source split for `tasks` tasks (relative to SHARED_DIR), by strip index. */
  strips(tasks: number): StripRef[];
  /**
   * Set: where histogram task `index` writes its strip's rows of the preview plan, relative to
   * SHARED_DIR (a source that cannot be read row by row; the previews are joined from these).
   */
  previewPart?(index: number): string;
  /**
   * Set: where task `index` keeps its decoded strip between the phases, relative to SHARED_DIR
   * (a source that is decoded as it is read: decoding once per job is cheaper than twice).
   */
  decodedPart?(index: number): string;
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
  /** What an equalize task recorded in `done` for `strip`, as a strip to check (absolute). */
  written(done: DoneRecord, strip: StripRef): Promise<StripRef>;
  /**
   * Set: the result is assembled by a task on any pod (an `assemble` task with this work and
   * output), which checks the strips' bytes against their checksums as it copies them, so
   * they are read once and the strips' own checks skip their hash. `finish` publishes what it
   * wrote.
   */
  assembly?(dones: readonly DoneRecord[]): { assembly: Assembly; output: string };
  /** After every strip passed the check: the result at `resultPath` (absolute). */
  finish(pool: ImagePool, dones: readonly DoneRecord[], resultPath: string): Promise<void>;
}

/**
 * The storage of job `id`: raw in place when the page's samples lie in the file as decoded,
 * chunked codec when the tasks can decode and encode its strips or tiles, else staged.
 */
export function storageFor(
  shared: SharedLayout,
  id: string,
  upload: string,
  info: ImageInfo,
): JobStorage {
  if (hasRawPixels(info)) return new RawInPlace(shared, id, upload, info);
  if (hasCodecPage(info)) return new ChunkedCodec(shared, id, upload, info);
  return new Staged(shared, id, upload, info);
}

/** `ref` with its paths (the file, and a chunk table) resolved against SHARED_DIR. */
export function absoluteRef(shared: SharedLayout, ref: StripRef): StripRef {
  const codec = ref.codec && { ...ref.codec, table: shared.abs(ref.codec.table) };
  return { ...ref, path: shared.abs(ref.path), ...(codec ? { codec } : {}) };
}

/** `assembly` with its paths (the upload, each band) resolved against SHARED_DIR. */
export function absoluteAssembly(shared: SharedLayout, assembly: Assembly): Assembly {
  return {
    ...assembly,
    upload: shared.abs(assembly.upload),
    bands: assembly.bands.map((b) => ({ ...b, path: shared.abs(b.path) })),
  };
}
