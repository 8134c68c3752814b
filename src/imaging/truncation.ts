import { open } from 'node:fs/promises';
import { HisteqError } from '../common/errors.js';

export type TruncatableFormat = 'tiff' | 'png' | 'jpeg';

const NAME: Record<TruncatableFormat, string> = { tiff: 'TIFF', png: 'PNG', jpeg: 'JPEG' };

const count = (n: number) => n.toLocaleString('en');

/** The one sentence for a file that ends before its own structure says it does. */
export function truncatedFile(format: TruncatableFormat, detail: string): HisteqError {
  return new HisteqError('BAD_INPUT', `The ${NAME[format]} file is truncated: ${detail}.`);
}

/** `its <part> ends at byte N but the file has M bytes`, the detail most truncations get. */
export function endsAfterFile(part: string, end: number, fileBytes: number): string {
  return `its ${part} ends at byte ${count(end)} but the file has ${count(fileBytes)} bytes`;
}

/**
 * How libjpeg and libtiff (through libvips) say that the data stopped early. libpng only says
 * "read error", which a bad checksum gives too, so PNGs are judged from their chunks instead.
 */
const LIBRARY_SAYS_TRUNCATED = /premature end|unexpected end|truncated|short read|read error at/i;

/**
 * When libvips refused a file (its header or its data): the truncation sentence if the file
 * ends too early, else null and the caller keeps its own sentence. TIFF structure is checked
 * before libvips is asked (tiff-ifd.ts), so here only libvips's own words are left for it.
 */
export async function truncationOf(
  path: string,
  format: TruncatableFormat,
  fileBytes: number,
  libraryError: unknown,
): Promise<HisteqError | null> {
  if (format === 'png') {
    const detail = await pngEndsEarly(path, fileBytes);
    return detail ? truncatedFile('png', detail) : null;
  }
  const text = libraryError instanceof Error ? libraryError.message : String(libraryError);
  return LIBRARY_SAYS_TRUNCATED.test(text)
    ? truncatedFile(format, 'it ends before its image data does')
    : null;
}

const MAX_CHUNKS_WALKED = 100_000;

/** A PNG ends with this 12-byte chunk: length 0, "IEND", and its CRC. */
const IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/**
 * Why a PNG is incomplete, or null: a chunk that runs past the end of the file, or no IEND
 * chunk before it ends. A complete file ends with IEND, so the common case costs one read; the
 * chunks are walked (8 bytes read per chunk, up to a bound) only when it does not, to tell a
 * cut file from one with bytes after its IEND.
 */
export async function pngEndsEarly(path: string, fileBytes: number): Promise<string | null> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(12);
    if (fileBytes >= 8 + 12) {
      await file.read(head, 0, 12, fileBytes - 12);
      if (head.equals(IEND)) return null;
    }
    // Real PNGs have a few thousand chunks at most (libpng writes 8 KiB IDATs: ~8,000 for a
    // 64 MB file); a file of countless tiny chunks is left to libpng rather than walked.
    for (let at = 8, chunks = 0; chunks < MAX_CHUNKS_WALKED; chunks++) {
      if (at + 8 > fileBytes) return 'it ends before its closing IEND chunk';
      await file.read(head, 0, 8, at);
      const length = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      const end = at + 12 + length;
      const name = /^[A-Za-z]{4}$/.test(type) ? `${type} chunk` : 'last chunk';
      if (end > fileBytes) return endsAfterFile(name, end, fileBytes);
      if (type === 'IEND') return null;
      at = end;
    }
    return null;
  } finally {
    await file.close();
  }
}
