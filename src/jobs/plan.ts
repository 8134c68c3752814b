import { planStrips, stripByteRange, type Strip } from '../imaging/strips.js';
import type { PixelLayout } from '../imaging/types.js';
import type { StripRef } from '../pool/protocol.js';

/**
 * The strips of a job, as references into a file of raw samples that start at byte `base`: the
 * staged raw file (base 0), or a raw TIFF itself (base = where its pixels start).
 */
export function stripRefs(
  rawPath: string,
  layout: PixelLayout,
  tasks: number,
  base = 0,
): StripRef[] {
  return planStrips(layout.height, tasks).map((strip) => stripRef(rawPath, layout, strip, base));
}

export function stripRef(rawPath: string, layout: PixelLayout, strip: Strip, base = 0): StripRef {
  return {
    path: rawPath,
    offset: base + stripByteRange(layout, strip).offset,
    layout: { ...layout, height: strip.rows },
  };
}
