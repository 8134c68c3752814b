import { planStrips, stripByteRange, type Strip } from '../imaging/strips.js';
import type { PixelLayout } from '../imaging/types.js';
import type { StripRef } from '../pool/protocol.js';

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
