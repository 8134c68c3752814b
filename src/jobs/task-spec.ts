import type { ClaheBand } from '../imaging/clahe/grid.js';
import type { ColourMode } from '../imaging/types.js';
import type { EncodedBandFile } from '../imaging/tiff-codec/assemble.js';
import type { StripRef } from '../pool/protocol.js';
import { TASK_KINDS, type TaskKind } from './paths.js';

/**
 * What a task znode holds besides the claim bookkeeping (`attempt`, `history`): enough for any
 * pod to run it without reading the job record. Paths are relative to SHARED_DIR.
 */
export interface TaskPayload {
  kind: TaskKind;
  job: string;
  index: number;
  /**
   * The strip: rows of a raw image starting at byte `offset`, or a band of a chunked TIFF page
   * (its chunk table is a shared file: a task znode stays small whatever the image).
   */
  source: StripRef;
  mode: ColourMode;
  /** Where the task's output goes (histogram counts, or equalized strip samples). */
  output: string;
  /** Set: `output` is the result container and the strip is written at this byte offset. */
  outputOffset?: number;
  /** Equalize tasks: the LUT file written by the reduce step (every tile's table for CLAHE). */
  lut?: string;
  /** CLAHE jobs: the grid, the whole image and the strip's first row. */
  clahe?: ClaheBand;
  /** Equalize tasks: encode the band like the input's chunks (see EqualizeRequest.encoded). */
  encoded?: boolean;
  /** Histogram tasks: where the band's preview rows go (see HistogramRequest.preview). */
  preview?: string;
  /** Both phases: the decoded band the histogram task keeps and the equalize task reads. */
  decoded?: string;
  /** Assemble tasks: the result of a chunked page, written to `output` from its bands. */
  assembly?: Assembly;
}

/**
 * A chunked page's result from its equalized band files, each held to the SHA-256 its task
 * recorded (paths relative to SHARED_DIR). Bands that do not match come back in the task's
 * `done` as `mismatched`, and then nothing is written.
 */
export interface Assembly {
  /** The upload and its page, for the page's tags. */
  upload: string;
  page: number;
  bands: EncodedBandFile[];
}

export function parsePayload(spec: Record<string, unknown>): TaskPayload {
  const p = spec as Partial<TaskPayload>;
  if (
    !TASK_KINDS.includes(p.kind as TaskKind) ||
    typeof p.job !== 'string' ||
    typeof p.index !== 'number' ||
    typeof p.output !== 'string' ||
    typeof p.source?.path !== 'string' ||
    (p.outputOffset !== undefined && typeof p.outputOffset !== 'number') ||
    (p.kind === 'equalize' && typeof p.lut !== 'string') ||
    (p.kind === 'assemble' && !Array.isArray(p.assembly?.bands)) ||
    (p.clahe !== undefined && typeof p.clahe?.top !== 'number')
  ) {
    throw new Error('task spec is malformed');
  }
  return p as TaskPayload;
}

/** The pixels of the task's strip (for throughput figures). */
export function pixelsOf(task: TaskPayload): number {
  return task.source.layout.width * task.source.layout.height;
}
