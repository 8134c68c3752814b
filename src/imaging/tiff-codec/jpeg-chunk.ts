import { HisteqError } from '../../common/errors.js';
import { loadSharp, reason } from '../codec.js';
import { chunkRowPixels, type ChunkGeometry } from './geometry.js';
import { JPEG_QUALITY, type JpegChunks } from './jpeg-page.js';

/** The last page's tables, decoded: a task reads chunk after chunk of one page. */
let lastTables: { base64: string; bytes: Buffer } | undefined;

/**
 * Decodes one JPEG chunk into `dst` (a whole tile, or the strip's rows). A chunk of a page with
 * JPEGTables is an abbreviated stream: the tables without their end marker, followed by the
 * chunk without its start marker, make the complete stream libjpeg decodes. libjpeg runs on
 * libuv's threads, so this is awaited; the pool thread runs one task at a time, so its reused
 * buffers are not touched meanwhile.
 */
export async function decodeJpegChunk(
  g: ChunkGeometry,
  stored: Uint8Array,
  dst: Uint8Array,
): Promise<void> {
  const { width, height, channels } = chunkShape(g, dst.byteLength);
  const sharp = await loadSharp();
  let out: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    const image = sharp(completeStream(g.jpeg, stored), {
      failOn: 'truncated',
      // A stream claiming a larger frame than its chunk is refused before it is decoded.
      limitInputPixels: Math.max(1, width * height),
    });
    // sharp would widen grey to sRGB; colour is libjpeg's YCbCr-to-RGB conversion as it is.
    if (channels === 1) image.toColourspace('b-w');
    out = await image.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw corruptJpeg(`The TIFF's JPEG data is corrupt${reason(err)}`);
  }
  const { info } = out;
  if (info.width !== width || info.height !== height || info.channels !== channels) {
    throw corruptJpeg(
      `A JPEG chunk of the TIFF holds ${info.width}×${info.height}×${info.channels} samples where the page needs ${width}×${height}×${channels}`,
    );
  }
  dst.set(out.data);
}

/**
 * Encodes one chunk (a whole tile, padded, or the strip's rows) as a complete baseline JPEG at
 * JPEG_QUALITY: grey as one component, colour as YCbCr with the geometry's subsampling.
 * libjpeg's output depends only on its input and settings, so a re-run writes the same bytes.
 */
export async function encodeJpegChunk(g: ChunkGeometry, chunk: Uint8Array): Promise<Uint8Array> {
  const { width, height, channels } = chunkShape(g, chunk.byteLength);
  const sharp = await loadSharp();
  const raw = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const image = sharp(raw, { raw: { width, height, channels } });
  if (channels === 1) image.toColourspace('b-w');
  const [h, v] = g.jpeg?.subsampling ?? [1, 1];
  return image
    .jpeg({ quality: JPEG_QUALITY, chromaSubsampling: h === 2 && v === 2 ? '4:2:0' : '4:4:4' })
    .toBuffer();
}

function chunkShape(g: ChunkGeometry, bytes: number) {
  const channels = g.layout.channels as 1 | 3;
  const width = chunkRowPixels(g);
  return { width, height: bytes / (width * channels), channels };
}

function completeStream(jpeg: JpegChunks | undefined, chunk: Uint8Array): Buffer {
  const data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (!jpeg?.tables) return data;
  if (lastTables?.base64 !== jpeg.tables) {
    lastTables = { base64: jpeg.tables, bytes: Buffer.from(jpeg.tables, 'base64') };
  }
  const tables = lastTables.bytes;
  const tablesEnd = endsWithMarker(tables, 0xd9) ? tables.length - 2 : tables.length;
  const chunkStart = startsWithMarker(data, 0xd8) ? 2 : 0;
  return Buffer.concat([tables.subarray(0, tablesEnd), data.subarray(chunkStart)]);
}

function endsWithMarker(b: Buffer, marker: number): boolean {
  return b.length >= 2 && b[b.length - 2] === 0xff && b[b.length - 1] === marker;
}

function startsWithMarker(b: Buffer, marker: number): boolean {
  return b.length >= 2 && b[0] === 0xff && b[1] === marker;
}

function corruptJpeg(sentence: string): HisteqError {
  return new HisteqError('BAD_INPUT', `${sentence}; check the file and upload it again.`);
}
