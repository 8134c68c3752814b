/**
 * The piscina worker: pure kernels from imaging/ plus the file I/O at their edges. Runs on pool
 * threads only, so the event loop of the pod never does pixel work.
 */
import { setPriority } from 'node:os';
import { threadId } from 'node:worker_threads';
import { isWorkerThread, move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { errorCode, errorMessage } from '../common/errors.js';
import { decodeImage, encodeImage } from '../imaging/codec.js';
import { applyLuts } from '../imaging/equalize.js';
import { addToHistogram, emptyHistogram, sumHistograms } from '../imaging/histogram.js';
import { buildLuts } from '../imaging/lut.js';
import { imageBytes, samplesOf, type PixelLayout } from '../imaging/types.js';
import { assembleTiff } from '../imaging/tiff-codec/assemble.js';
import { encodedBandSink } from '../imaging/tiff-codec/band-sink.js';
import { outputGeometry } from '../imaging/tiff-codec/geometry.js';
import { joinPreviewParts, PreviewRowsOfBand } from './preview-rows.js';
import { keptBand, keptBandSink } from './kept-band.js';
import type {
  AssembleRequest,
  EqualizeRequest,
  EqualizeResult,
  HistogramRequest,
  HistogramResult,
  LutRequest,
  LutResult,
  StageRequest,
  StageResult,
  StitchRequest,
  StitchResult,
  PoolError,
  PoolWorkerData,
  PreviewRequest,
  PreviewResult,
} from './protocol.js';
import {
  atomicFileSink,
  forEachChunk,
  inPlaceSink,
  readPreviewRows,
  readStripsInto,
  writeHashedFileAtomic,
} from './strip-io.js';
import { verifyStrip } from './verify-strip.js';
import {
  claheHistogramOf,
  claheChunkMapper,
  claheSampledPreview,
  claheTables,
} from './clahe-steps.js';

// Linux nice is per thread: this lowers only this pool thread, never the pod's event loop
// (which loads this module too, for work too small for a hop: see inline-work.ts).
const { nice } = isWorkerThread ? (workerData as PoolWorkerData) : { nice: 0 };
if (nice > 0) {
  try {
    setPriority(nice);
  } catch {
    // Not permitted (a locked-down platform): the threads just run at normal priority.
  }
}

export const stage = guard(async (req: StageRequest): Promise<StageResult> => {
  const pixels = await decodeImage(req.inputPath, req.info);
  await writeHashedFileAtomic(req.outPath, pixels);
  return { bytes: pixels.byteLength };
});

export const histogram = guard(async (req: HistogramRequest) => {
  // Global: one histogram of the strip; CLAHE: the per-tile histograms of its rows.
  const hist = req.clahe ? null : emptyHistogram(req.source.layout, req.mode);
  const tiles = req.clahe ? claheHistogramOf(req.source, req.mode, req.clahe) : null;
  const add = (bytes: Uint8Array, layout: PixelLayout, at: number) => {
    if (hist) addToHistogram(samplesOf(bytes, layout), layout, req.mode, hist);
    else tiles!.add(bytes, layout, at);
  };
  const preview = req.preview && new PreviewRowsOfBand(req.source, req.preview.maxSide);
  const keep = req.keepDecoded ? await keptBandSink(req.keepDecoded) : undefined;
  try {
    await forEachChunk(
      req.source,
      async (bytes, layout, at) => {
        add(bytes, layout, at);
        preview?.take(bytes, at);
        await keep?.write(bytes, at);
      },
      req.cancel,
    );
    await keep?.finish();
  } catch (err) {
    await keep?.discard();
    throw err;
  }
  if (preview && req.preview) await writeHashedFileAtomic(req.preview.path, preview.rows);
  // piscina transfers only a transferable returned at top level: the histogram's buffer goes
  // as the movable's transferable, beside the thread's id (an attempt records where it ran).
  const histogram = hist ?? tiles!.result();
  return move({
    [transferableSymbol]: histogram.buffer,
    [valueSymbol]: { histogram, thread: threadId },
  }) as unknown as HistogramResult;
});

export const lut = guard(async (req: LutRequest): Promise<LutResult> => {
  if (req.clahe) {
    const tables = claheTables(req.histograms, req.layout, req.mode, req.clahe);
    return { lut: tables, histogram: new Float64Array(0) };
  }
  const total = sumHistograms(req.histograms);
  // At most 3 × 64 Ki entries: cloning costs less than packing two arrays into one transfer.
  return { lut: buildLuts(total, req.layout, req.mode), histogram: total };
});

export const equalize = guard(async (req: EqualizeRequest): Promise<EqualizeResult> => {
  const { codec } = req.source;
  const sink =
    req.encoded && codec
      ? encodedBandSink(
          req.outPath,
          outputGeometry(codec.geometry),
          codec.top,
          req.source.layout.height,
        )
      : req.outOffset !== undefined
        ? await inPlaceSink(req.outPath, req.outOffset)
        : await atomicFileSink(req.outPath);
  const map = req.clahe
    ? claheChunkMapper(req.source.layout, req.mode, req.clahe, req.lut)
    : (bytes: Uint8Array, layout: PixelLayout) =>
        applyLuts(samplesOf(bytes, layout), layout, req.mode, req.lut);
  try {
    const kept = req.decoded ? await keptBand(req.decoded, req.source) : null;
    await forEachChunk(
      kept?.ref ?? req.source,
      async (bytes, layout, at) => {
        kept?.hash.update(bytes);
        map(bytes, layout, at);
        await sink.write(bytes, at);
      },
      req.cancel,
    );
    await kept?.check();
    return {
      bytes: imageBytes(req.source.layout),
      sha256: await sink.finish(),
      thread: threadId,
    };
  } catch (err) {
    await sink.discard();
    throw err;
  }
});

export const preview = guard(async (req: PreviewRequest): Promise<PreviewResult> => {
  const input = req.parts
    ? await joinPreviewParts(req.parts, req.plan)
    : readPreviewRows(req.source, req.plan);
  const output = input.slice();
  if (req.clahe) {
    const { plan, source, mode, clahe, lut } = req;
    claheSampledPreview(output, plan, source.layout, mode, clahe, lut);
  } else applyLuts(samplesOf(output, req.plan.layout), req.plan.layout, req.mode, req.lut);
  return { input, output };
});

export const stitch = guard(async (req: StitchRequest): Promise<StitchResult> => {
  const pixels = await readStripsInto(req.strips, req.info.layout, req.checksums);
  await encodeImage(pixels, req.info, req.outPath);
  return { bytes: pixels.byteLength };
});

export const assemble = guard((req: AssembleRequest) =>
  assembleTiff(req.upload, req.page, req.bands, req.outPath),
);

export const verify = guard(verifyStrip);

/**
 * Errors lose their class and extra fields when cloned back to the main thread, so a worker
 * error travels as a plain `{code, message}` that ImagePool turns back into a HisteqError.
 */
function guard<A, R>(fn: (arg: A) => Promise<R>): (arg: A) => Promise<R> {
  return async (arg: A) => {
    try {
      return await fn(arg);
    } catch (err) {
      throw { code: errorCode(err) ?? 'INTERNAL', message: errorMessage(err) } satisfies PoolError;
    }
  };
}
