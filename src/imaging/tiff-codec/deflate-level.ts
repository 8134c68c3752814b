import { open } from 'node:fs/promises';
import type { TiffIfd } from '../tiff-ifd.js';

/**
 * The zlib level to write a deflate page with, read from its first chunk's zlib header: TIFF
 * does not record the level, but every zlib stream says which class of level made it (FLEVEL:
 * fastest, fast, default, best). A file written at level 1 for speed is then written back at
 * level 1, about three times faster than the default on photographs, and one written at 9 stays
 * as small. One answer for the whole page, so every task encodes alike.
 */
export async function deflateLevelOf(path: string, ifd: TiffIfd, tiled: boolean): Promise<number> {
  const offset = ifd.fields.get(tiled ? 324 : 273)?.[0];
  if (offset === undefined) return DEFAULT_LEVEL;
  const file = await open(path, 'r');
  try {
    const head = new Uint8Array(2);
    const { bytesRead } = await file.read(head, 0, 2, offset);
    return bytesRead === 2 ? levelOfHeader(head[0], head[1]) : DEFAULT_LEVEL;
  } finally {
    await file.close();
  }
}

/** zlib's default, what libtiff and libvips write unless told otherwise. */
export const DEFAULT_LEVEL = 6;
/** A representative level of each FLEVEL class (zlib: 0 is level 1, 1 is 2–5, 2 is 6, 3 is 7–9). */
const LEVEL_OF_CLASS = [1, 4, 6, 9];

export function levelOfHeader(cmf: number, flg: number): number {
  const zlib = (cmf & 0x0f) === 8 && ((cmf << 8) | flg) % 31 === 0;
  return zlib ? LEVEL_OF_CLASS[flg >> 6] : DEFAULT_LEVEL;
}
