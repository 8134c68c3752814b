import { constants, deflateSync, inflateSync, type ZlibOptions } from 'node:zlib';
import sharp from 'sharp';
import { applyLuts } from '../src/imaging/equalize.js';
import { computeHistogram } from '../src/imaging/histogram.js';
import { buildLuts } from '../src/imaging/lut.js';
import { decodeChunk, encodeChunk } from '../src/imaging/tiff-codec/chunk-codec.js';
import { deflateChunkBytes, inflateChunkBytes } from '../src/imaging/tiff-codec/deflate.js';
import type { ChunkGeometry } from '../src/imaging/tiff-codec/geometry.js';
import { applyHorizontal } from '../src/imaging/tiff-codec/predictor.js';
import { summarize, type Summary } from './stats.js';

export interface DeflateFigures {
  encoder: string;
  /** CPU milliseconds per 256×256 tile. */
  msPerTile: Summary;
  /** Compressed bytes over raw bytes, all tiles. */
  ratio: number;
}

const TILE = 256;
/** Tile rows taken from the page: 4 × 32 tiles of 64 KiB at 8000 pixels wide. */
const BAND_ROWS = 4 * TILE;

/**
 * What a task's encoder costs on the tiles an equalize task writes: a band of the bench's
 * 8-bit deflate image, equalized (with the band's own histogram), cut into 256×256 tiles. The
 * tasks' own chunk codec (libdeflate where the system has it) runs on them as they are;
 * libdeflate and zlib alone, with zlib's options, on the tiles with the horizontal predictor
 * applied, as the codec path stores them. Each encoder compresses
 * every tile once per round, rounds interleaved so that all of them see the same machine; the
 * figure is CPU time of this thread, not wall time, so other work on the VM weighs less.
 */
export async function benchDeflate(imagePath: string, runs: number): Promise<DeflateFigures[]> {
  const samples = await equalizedTiles(imagePath);
  const tiles = samples.map((tile) => {
    const predicted = tile.slice();
    applyHorizontal(predicted, TILE, 1);
    return predicted;
  });
  const stored = tiles.map((t) => deflateSync(t, { level: 6 }));
  // What a task does per tile: the predictor and deflate at level 6 (encodeChunk uses the tile as
  // scratch, hence the copy), and back.
  const g: ChunkGeometry = {
    layout: { width: TILE, height: TILE, channels: 1, depth: 8 },
    tiled: true,
    chunkWidth: TILE,
    chunkHeight: TILE,
    compression: 8,
    predictor: 2,
    littleEndian: true,
    deflateLevel: 6,
  };
  const decoded = new Uint8Array(TILE * TILE);
  let next = 0;
  const encoders: [string, (tile: Uint8Array) => Uint8Array][] = [
    ['tasks: predictor + level 6', () => encodeChunk(g, samples[next++ % samples.length]!.slice())],
    [
      'tasks: inflate + predictor',
      () => {
        decodeChunk(g, stored[next++ % stored.length]!, decoded);
        return decoded;
      },
    ],
    ...[1, 6, 9].map((level): [string, (tile: Uint8Array) => Uint8Array] => [
      `libdeflate level ${level}`,
      (tile) => deflateChunkBytes(tile, level, 'libdeflate'),
    ]),
    ...[1, 6, 9].map((level) => zlibEncoder(`zlib level ${level}`, { level })),
    zlibEncoder('zlib level 6, memLevel 9', { level: 6, memLevel: 9 }),
    zlibEncoder('zlib level 6, windowBits 13', { level: 6, windowBits: 13 }),
    zlibEncoder('zlib level 6, Z_RLE', { level: 6, strategy: constants.Z_RLE }),
    zlibEncoder('zlib level 6, Z_HUFFMAN_ONLY', {
      level: 6,
      strategy: constants.Z_HUFFMAN_ONLY,
    }),
  ];
  encoders.push(
    [
      'libdeflate inflate of level 6',
      () => {
        inflateChunkBytes(stored[next++ % stored.length]!, decoded, 'libdeflate');
        return decoded;
      },
    ],
    [
      'zlib inflate of level 6',
      () => inflateSync(stored[next++ % stored.length]!, { maxOutputLength: TILE * TILE }),
    ],
  );
  const ms = encoders.map((): number[] => []);
  const bytes = encoders.map(() => 0);
  for (let round = 0; round < runs; round++) {
    for (const [i, [, encode]] of encoders.entries()) {
      const start = process.cpuUsage();
      let total = 0;
      for (const tile of tiles) total += encode(tile).length;
      const used = process.cpuUsage(start);
      ms[i]!.push((used.user + used.system) / 1000 / tiles.length);
      bytes[i] = total;
    }
  }
  const raw = tiles.length * TILE * TILE;
  return encoders.map(([encoder], i) => ({
    encoder,
    msPerTile: summarize(ms[i]!),
    ratio: bytes[i]! / raw,
  }));
}

function zlibEncoder(
  name: string,
  options: ZlibOptions,
): [string, (tile: Uint8Array) => Uint8Array] {
  return [name, (tile) => deflateSync(tile, options)];
}

async function equalizedTiles(imagePath: string): Promise<Uint8Array[]> {
  const meta = await sharp(imagePath, { limitInputPixels: false }).metadata();
  const width = meta.width;
  const top = Math.max(0, Math.floor((meta.height - BAND_ROWS) / 2 / TILE) * TILE);
  const data = await sharp(imagePath, { limitInputPixels: false })
    .extractChannel(0)
    .extract({ left: 0, top, width, height: BAND_ROWS })
    .raw()
    .toBuffer();
  const layout = { width, height: BAND_ROWS, channels: 1 as const, depth: 8 as const };
  const band = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  applyLuts(
    band,
    layout,
    'luma',
    buildLuts(computeHistogram(band, layout, 'luma'), layout, 'luma'),
  );
  const tiles: Uint8Array[] = [];
  for (let y = 0; y < BAND_ROWS; y += TILE) {
    for (let x = 0; x < width; x += TILE) {
      const tile = new Uint8Array(TILE * TILE);
      const across = Math.min(TILE, width - x);
      for (let row = 0; row < TILE; row++) {
        const from = (y + row) * width + x;
        tile.set(band.subarray(from, from + across), row * TILE);
      }
      tiles.push(tile);
    }
  }
  return tiles;
}
