import { crc32, createDeflate, deflateSync } from 'node:zlib';

/**
 * A valid uncompressed 8-bit grey TIFF of `width`×`height` (pixels from `pixels`) that also
 * carries `extraTags` private tags, each claiming `valuesPerTag` BYTE values, all pointing at one
 * shared blob of that size: a file of about `valuesPerTag` bytes that claims
 * `extraTags × valuesPerTag` values.
 */
export function tagAmplificationTiff(
  width: number,
  height: number,
  pixels: Uint8Array,
  extraTags: number,
  valuesPerTag: number,
): Buffer {
  const SHORT = 3;
  const LONG = 4;
  const entries: [tag: number, type: number, count: number, value: number][] = [];
  const count = 9 + extraTags;
  const ifdBytes = 2 + 12 * count + 4;
  const pixelsAt = 8 + ifdBytes;
  const blobAt = pixelsAt + pixels.length;
  entries.push(
    [256, LONG, 1, width],
    [257, LONG, 1, height],
    [258, SHORT, 1, 8],
    [259, SHORT, 1, 1],
    [262, SHORT, 1, 1],
    [273, LONG, 1, pixelsAt],
    [277, SHORT, 1, 1],
    [278, LONG, 1, height],
    [279, LONG, 1, pixels.length],
  );
  // Private tags (32768 and up), in ascending order as TIFF requires.
  for (let i = 0; i < extraTags; i++) entries.push([40_000 + i, 1, valuesPerTag, blobAt]);
  const out = Buffer.alloc(blobAt + valuesPerTag);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  out.writeUInt16LE(count, 8);
  entries.forEach(([tag, type, n, value], i) => {
    const at = 10 + 12 * i;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(n, at + 4);
    if (type === SHORT && n === 1) out.writeUInt16LE(value, at + 8);
    else out.writeUInt32LE(value, at + 8);
  });
  out.writeUInt32LE(0, 10 + 12 * count); // no next page
  out.set(pixels, pixelsAt);
  for (let i = 0; i < valuesPerTag; i++) out[blobAt + i] = i & 0xff;
  return out;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A valid RGBA 16-bit PNG of `width`×`height`, all zeros: deflate squeezes it to about a
 * thousandth of its decoded size (8192² decodes to 512 MiB from about half a megabyte).
 */
export async function decompressionBombPng(width: number, height: number): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 16; // bit depth
  ihdr[9] = 6; // RGBA
  const rowBytes = 1 + width * 8; // filter byte, then the row
  // Zeros (filter 0, black transparent pixels), deflated a slice at a time so the test itself
  // never holds the decoded size.
  const deflate = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => parts.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    deflate.once('end', resolve);
    deflate.once('error', reject);
  });
  const slice = Buffer.alloc(1 << 20);
  for (let left = rowBytes * height; left > 0; left -= slice.length) {
    const ok = deflate.write(left >= slice.length ? slice : slice.subarray(0, left));
    if (!ok) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await ended;
  const idat = Buffer.concat(parts);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A PNG header with a few compressed bytes of its rows: what a pixel bomb looks like. */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const framed = Buffer.alloc(12 + data.length);
    framed.writeUInt32BE(data.length, 0);
    body.copy(framed, 4);
    framed.writeUInt32BE(crc32(body), 8 + data.length);
    return framed;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (grey), no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const rows = chunk('IDAT', deflateSync(Buffer.alloc(1024)));
  return Buffer.concat([signature, chunk('IHDR', ihdr), rows, chunk('IEND', Buffer.alloc(0))]);
}
