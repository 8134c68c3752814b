/**
 * The piscina worker: pure kernels from imaging/ plus the file I/O at their edges. Runs on pool
 * threads only, so the event loop of the pod never does pixel work.
 */
import { readFile } from 'node:fs/promises';
import { move } from 'piscina';
import { decodeImage, encodeImage } from '../imaging/codec.js';
import { applyLuts } from '../imaging/equalize.js';
import { computeHistogram, sumHistograms } from '../imaging/histogram.js';
import { buildLuts } from '../imaging/lut.js';
import { stitchStrips } from '../imaging/strips.js';
import { samplesOf } from '../imaging/types.js';
import type {
  EqualizeRequest,
  EqualizeResult,
  HistogramRequest,
  LutRequest,
  LutResult,
  StageRequest,
  StageResult,
  StitchRequest,
  StitchResult,
} from './protocol.js';
import { readStrip, writeFileAtomic } from './strip-io.js';

export async function stage(req: StageRequest): Promise<StageResult> {
  const pixels = await decodeImage(req.inputPath, req.info);
  await writeFileAtomic(req.outPath, pixels);
  return { bytes: pixels.byteLength };
}

export async function histogram(req: HistogramRequest) {
  const bytes = await readStrip(req.source);
  const hist = computeHistogram(samplesOf(bytes, req.source.layout), req.source.layout, req.mode);
  // piscina transfers only a transferable returned at top level, so the histogram is returned bare.
  return move(hist) as Uint32Array;
}

export async function lut(req: LutRequest): Promise<LutResult> {
  const total = sumHistograms(req.histograms);
  // At most 3 × 64 Ki entries: cloning costs less than packing two arrays into one transfer.
  return { lut: buildLuts(total, req.layout, req.mode), histogram: total };
}

export async function equalize(req: EqualizeRequest): Promise<EqualizeResult> {
  const bytes = await readStrip(req.source);
  applyLuts(samplesOf(bytes, req.source.layout), req.source.layout, req.mode, req.lut);
  const sha256 = await writeFileAtomic(req.outPath, bytes);
  return { bytes: bytes.byteLength, sha256 };
}

export async function stitch(req: StitchRequest): Promise<StitchResult> {
  const parts = await Promise.all(req.strips.map((path) => readFile(path)));
  const pixels = stitchStrips(req.info.layout, parts);
  await encodeImage(pixels, req.info, req.outPath);
  return { bytes: pixels.byteLength };
}
