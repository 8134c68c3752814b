import type { ImageInfo } from '../imaging/image-info.js';
import { planStrips, stripByteRange, type Strip } from '../imaging/strips.js';
import { chunkRowCount, chunksAcross } from '../imaging/tiff-codec/geometry.js';
import { CHUNK_ENTRY_BYTES } from '../imaging/tiff-codec/page.js';
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

/** The most tasks an image can be split into: one per row, or one per chunk row. */
export function maxTasksFor(info: ImageInfo): number {
  return info.codec ? chunkRowCount(info.codec) : info.layout.height;
}

/** Pixels per strip stay below this, so a strip's 32-bit histogram counts cannot overflow. */
const MAX_STRIP_PIXELS = 2 ** 31;

/**
 * The task count for `wanted` tasks: at most one per row (or chunk row), and enough that no
 * strip reaches 2^31 pixels (strips differ by at most one row or chunk row in height).
 */
export function taskCountFor(info: ImageInfo, wanted: number): number {
  const { width, height } = info.layout;
  const unit = info.codec ? info.codec.chunkHeight : 1;
  const fewest = Math.ceil((width * height) / (MAX_STRIP_PIXELS - width * unit)) || 1;
  return Math.min(maxTasksFor(info), Math.max(wanted, fewest));
}

/**
 * The job's strips as row ranges. A chunked TIFF page is split at chunk rows (whole strips or
 * rows of tiles), so each chunk is decoded and encoded by exactly one task.
 */
export function planBands(info: ImageInfo, tasks: number): Strip[] {
  const g = info.codec;
  if (!g) return planStrips(info.layout.height, tasks);
  return planStrips(chunkRowCount(g), tasks).map((s) => {
    const top = s.top * g.chunkHeight;
    return { index: s.index, top, rows: Math.min(s.rows * g.chunkHeight, g.layout.height - top) };
  });
}

/** The bands of a chunked page as references into `path` (its chunks) and `table`. */
export function bandRefs(
  info: ImageInfo & { codec: NonNullable<ImageInfo['codec']> },
  path: string,
  table: string,
  tasks: number,
): StripRef[] {
  const g = info.codec;
  return planBands(info, tasks).map((band) => ({
    path,
    offset: 0,
    layout: { ...info.layout, height: band.rows },
    codec: {
      geometry: g,
      table,
      tableOffset: (band.top / g.chunkHeight) * chunksAcross(g) * CHUNK_ENTRY_BYTES,
      top: band.top,
    },
  }));
}
