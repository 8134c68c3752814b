import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { dataStart, tiffHead, type TiffEntry } from '../../src/imaging/tiff-codec/tiff-writer.js';
import type { RawImage } from './oracle.js';

/**
 * A YCbCr 4:4:4 tiled page whose tiles are complete JPEG streams without JPEGTables (libvips
 * writes neither): each tile cut from `image`, padded with zeros, encoded by
 * sharp, and the directory written by hand.
 */
export async function writeFullStreamTiles(
  path: string,
  image: RawImage,
  tile: number,
): Promise<string> {
  const { width, height } = image;
  const tiles: Buffer[] = [];
  for (let ty = 0; ty < height; ty += tile) {
    for (let tx = 0; tx < width; tx += tile) {
      const pixels = Buffer.alloc(tile * tile * 3);
      for (let y = 0; y < tile && ty + y < height; y++) {
        const from = ((ty + y) * width + tx) * 3;
        const n = Math.min(tile, width - tx) * 3;
        pixels.set(image.data.subarray(from, from + n) as Uint8Array, y * tile * 3);
      }
      const raw = { width: tile, height: tile, channels: 3 as const };
      tiles.push(await sharp(pixels, { raw }).jpeg({ chromaSubsampling: '4:4:4' }).toBuffer());
    }
  }
  const entries = (offsets: number[]): TiffEntry[] => [
    { tag: 256, type: 4, values: [width] },
    { tag: 257, type: 4, values: [height] },
    { tag: 258, type: 3, values: [8, 8, 8] },
    { tag: 259, type: 3, values: [7] },
    { tag: 262, type: 3, values: [6] },
    { tag: 277, type: 3, values: [3] },
    { tag: 284, type: 3, values: [1] },
    { tag: 322, type: 4, values: [tile] },
    { tag: 323, type: 4, values: [tile] },
    { tag: 324, type: 4, values: offsets },
    { tag: 325, type: 4, values: tiles.map((t) => t.length) },
    { tag: 530, type: 3, values: [1, 1] },
  ];
  let at = dataStart(entries(tiles.map(() => 0)), false);
  const offsets = tiles.map((t) => ((at += t.length), at - t.length));
  await writeFile(path, Buffer.concat([tiffHead(entries(offsets), false), ...tiles]));
  return path;
}
