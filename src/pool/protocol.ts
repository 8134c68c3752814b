import type { ClaheBand, ClaheParams } from '../imaging/clahe/grid.js';
import type { ImageInfo } from '../imaging/image-info.js';
import type { PreviewPlan } from '../imaging/preview.js';
import type { CodecBand } from '../imaging/tiff-codec/band.js';
import type { EncodedBandFile } from '../imaging/tiff-codec/assemble.js';
import type { ColourMode, Lut, PixelLayout } from '../imaging/types.js';
import type { CancelFlag } from './cancel-flag.js';

/**
 * The typed thread protocol: every CPU-heavy step is one of these messages. Paths point into
 * shared storage; pixel buffers never travel in messages except histograms and LUTs, which are
 * transferred (moved), not copied.
 */

/**
 * A strip of an image: `rows` whole rows of a raw (decoded, interleaved) file starting at byte
 * `offset`, or, with `codec`, a band of a chunked TIFF page decoded as it is read.
 */
export interface StripRef {
  path: string;
  offset: number;
  /** The strip's own layout: the image width and channels, `rows` as its height. */
  layout: PixelLayout;
  codec?: CodecBand;
}

/** Decode an uploaded image once into a raw file every task can read its strip from. */
export interface StageRequest {
  kind: 'stage';
  inputPath: string;
  info: ImageInfo;
  outPath: string;
}
export interface StageResult {
  bytes: number;
}

export interface HistogramRequest {
  kind: 'histogram';
  source: StripRef;
  mode: ColourMode;
  /** Set: CLAHE per-tile histograms of the band (imaging/clahe/tile-histograms.ts). */
  clahe?: ClaheBand;
  /** Raised by the pod when the task's job is cancelled (cancel-flag.ts). */
  cancel?: CancelFlag;
  /**
   * Set: also write the strip's rows of the image's preview plan (planPreview of the whole
   * image at `maxSide`) to `path`, so the master's previews need no decode of a chunked page.
   */
  preview?: { path: string; maxSide: number };
  /**
   * Set: also keep the decoded strip in this raw file (and its SHA-256 next to it) for the
   * equalize task, which then reads it instead of decoding the band again.
   */
  keepDecoded?: string;
}
/** A histogram request's (transferred) counts, and the pool thread that counted them. */
export interface HistogramResult {
  histogram: Uint32Array;
  /** `worker_threads.threadId` of the thread that ran it (0: the pod's main thread, inline-work.ts). */
  thread: number;
}

/** The reduce step: sum the strip histograms and build the LUTs. */
export interface LutRequest {
  kind: 'lut';
  histograms: Uint32Array[];
  layout: PixelLayout;
  mode: ColourMode;
  /** Set: the histograms are CLAHE bands and `lut` comes back as every tile's table. */
  clahe?: ClaheParams;
}
export interface LutResult {
  lut: Lut;
  /** The global histogram (exact sums past 2^32 pixels), kept for the UI and the job's record. */
  histogram: Float64Array;
}

export interface EqualizeRequest {
  kind: 'equalize';
  source: StripRef;
  mode: ColourMode;
  lut: Lut;
  outPath: string;
  /**
   * Set: write the strip in place at this byte offset of an existing file (the result container
   * of a raw TIFF, see raw-tiff.ts) instead of into a strip file of its own.
   */
  outOffset?: number;
  /** Set: CLAHE of the band, `lut` holding every tile's table. */
  clahe?: ClaheBand;
  /** Raised by the pod when the task's job is cancelled (cancel-flag.ts). */
  cancel?: CancelFlag;
  /**
   * Set (a band of a chunked TIFF page): encode the strip like the input's chunks into a band
   * file (tiff-codec/band-sink.ts) instead of writing its samples.
   */
  encoded?: boolean;
  /** Set: the strip's samples as its histogram task kept them (see keepDecoded), if there. */
  decoded?: string;
}
export interface EqualizeResult {
  bytes: number;
  /** SHA-256 of the strip's bytes as the task wrote them (a strip file, or in place). */
  sha256: string;
  /** `worker_threads.threadId` of the thread that ran it (0: the pod's main thread, inline-work.ts). */
  thread: number;
}

/** Join equalized strips (in order) and encode them like the input. */
export interface StitchRequest {
  kind: 'stitch';
  strips: string[];
  /** SHA-256 of each strip as its task recorded it; a mismatch fails the stitch. */
  checksums?: string[];
  info: ImageInfo;
  outPath: string;
}
export interface StitchResult {
  bytes: number;
}

/** Write the result TIFF of a chunked page from its equalized band files (no pixel work). */
export interface AssembleRequest {
  kind: 'assemble';
  /** The upload and its page, for the page's tags. */
  upload: string;
  page: number;
  bands: EncodedBandFile[];
  outPath: string;
}
export interface AssembleResult {
  bytes: number;
  /** The bands that did not match their SHA-256 (then no result was written). */
  mismatched: number[];
}

/** Sample the preview's pixels from the whole image, and the same through the LUT. */
export interface PreviewRequest {
  kind: 'preview';
  source: StripRef;
  /** Set: the planned rows were written by the histogram tasks to these files, in order. */
  parts?: string[];
  plan: PreviewPlan;
  mode: ColourMode;
  lut: Lut;
  /** Set: CLAHE, `lut` holding every tile's table. */
  clahe?: ClaheParams;
}
/** Raw samples in the plan's layout (at most 1024 × 1024 pixels each). */
export interface PreviewResult {
  input: Uint8Array;
  output: Uint8Array;
}

/**
 * Check one equalized strip before its job is called done: its bytes against the checksum its
 * task recorded, and sampled rows against the source through the LUT, mapped by the plain
 * scalar path (not the kernels that produced it).
 */
export interface VerifyRequest {
  kind: 'verify';
  /** The strip as written: a strip file, or its rows inside the result container. */
  result: StripRef;
  /** The same rows of the source image. */
  source: StripRef;
  /** Unset: the bytes are checked elsewhere (a chunked page's, as the result is assembled). */
  checksum?: string;
  /** Rows of the strip (0-based inside it) to recompute, ascending. */
  rows: number[];
  mode: ColourMode;
  lut: Lut;
  /** Set: CLAHE of the strip's band, `lut` holding every tile's table. */
  clahe?: ClaheBand;
}
/** `problem`: why the strip is wrong, in one sentence; null when it checks out. */
export interface VerifyResult {
  problem: string | null;
}

export type PoolRequest =
  | StageRequest
  | HistogramRequest
  | LutRequest
  | EqualizeRequest
  | StitchRequest
  | AssembleRequest
  | PreviewRequest
  | VerifyRequest;

export interface PoolResults {
  stage: StageResult;
  histogram: HistogramResult;
  lut: LutResult;
  equalize: EqualizeResult;
  stitch: StitchResult;
  assemble: AssembleResult;
  preview: PreviewResult;
  verify: VerifyResult;
}

/** What every pool thread is started with. */
export interface PoolWorkerData {
  nice: number;
}

/** How a failed request comes back from a pool thread (see worker.ts). */
export interface PoolError {
  code: string;
  message: string;
}
