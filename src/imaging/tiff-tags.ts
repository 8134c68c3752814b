import { open } from 'node:fs/promises';

/** TIFF compression schemes we can write back (tag 259 values). */
export type TiffCompression = 'none' | 'lzw' | 'deflate' | 'packbits' | 'jpeg' | 'zstd' | 'webp';
export type TiffPredictor = 'none' | 'horizontal' | 'float';

export interface TiffTags {
  compression: TiffCompression;
  predictor: TiffPredictor;
  tiled: boolean;
}

const COMPRESSION: Record<number, TiffCompression> = {
  1: 'none',
  5: 'lzw',
  7: 'jpeg',
  8: 'deflate',
  32946: 'deflate',
  32773: 'packbits',
  50000: 'zstd',
  50001: 'webp',
};
const PREDICTOR: Record<number, TiffPredictor> = { 1: 'none', 2: 'horizontal', 3: 'float' };
const MAX_PAGES_WALKED = 10_000;

/**
 * Reads the compression, predictor and tiling of one page of a TIFF file, so the output can be
 * written the way the input was. sharp's metadata does not report TIFF compression, and only a
 * few header bytes are needed, read with positioned reads (the IFD may sit after the pixels).
 * Returns null for anything that is not a parseable classic TIFF (BigTIFF included).
 */
export async function readTiffTags(path: string, page = 0): Promise<TiffTags | null> {
  const file = await open(path, 'r');
  try {
    const read = async (offset: number, length: number): Promise<Buffer | null> => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await file.read(buf, 0, length, offset);
      return bytesRead === length ? buf : null;
    };
    const header = await read(0, 8);
    if (!header) return null;
    const order = header.toString('latin1', 0, 2);
    if (order !== 'II' && order !== 'MM') return null;
    const le = order === 'II';
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    if (u16(header, 2) !== 42) return null;
    let ifd = u32(header, 4);
    for (let p = 0; p < page && ifd !== 0 && p < MAX_PAGES_WALKED; p++) {
      const count = await read(ifd, 2);
      if (!count) return null;
      const next = await read(ifd + 2 + 12 * u16(count, 0), 4);
      if (!next) return null;
      ifd = u32(next, 0);
    }
    if (ifd === 0) return null;
    const countBuf = await read(ifd, 2);
    if (!countBuf) return null;
    const entries = await read(ifd + 2, 12 * u16(countBuf, 0));
    if (!entries) return null;
    const tags: TiffTags = { compression: 'none', predictor: 'none', tiled: false };
    for (let i = 0; i < entries.length; i += 12) {
      const tag = u16(entries, i);
      // SHORT values are left-justified in the 4-byte value field.
      const value = u16(entries, i + 2) === 3 ? u16(entries, i + 8) : u32(entries, i + 8);
      if (tag === 259) tags.compression = COMPRESSION[value] ?? 'deflate';
      else if (tag === 317) tags.predictor = PREDICTOR[value] ?? 'none';
      else if (tag === 322) tags.tiled = true;
    }
    return tags;
  } finally {
    await file.close();
  }
}
