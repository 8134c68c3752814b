import { join } from 'node:path';
import { planStrips, stripByteRange, type Strip } from '../imaging/strips.js';
import type { PixelLayout } from '../imaging/types.js';
import type { StripRef } from '../pool/protocol.js';

/**
 * Where a job's intermediate files live inside its work folder. The cluster and the
 * single-process CLI share this plan, so both run the very same computation.
 */
export function workFiles(workDir: string) {
  return {
    /** The decoded source image, raw interleaved samples; tasks read their strips from it. */
    raw: join(workDir, 'source.raw'),
    histogram: (i: number) => join(workDir, `hist_${i}.bin`),
    lut: join(workDir, 'lut.bin'),
    globalHistogram: join(workDir, 'histogram.bin'),
    equalized: (i: number) => join(workDir, `strip_${i}.raw`),
  };
}

/** The strips of a job, as references into the staged raw file. */
export function stripRefs(rawPath: string, layout: PixelLayout, tasks: number): StripRef[] {
  return planStrips(layout.height, tasks).map((strip) => stripRef(rawPath, layout, strip));
}

export function stripRef(rawPath: string, layout: PixelLayout, strip: Strip): StripRef {
  return {
    path: rawPath,
    offset: stripByteRange(layout, strip).offset,
    layout: { ...layout, height: strip.rows },
  };
}
