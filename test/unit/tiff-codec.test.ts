import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { probeImage } from '../../src/imaging/probe.js';
import type { ImageInfo } from '../../src/imaging/image-info.js';
import { readTiffIfd } from '../../src/imaging/tiff-ifd.js';
import { assembleTiff } from '../../src/imaging/tiff-codec/assemble.js';
import { BandReader, forEachDecodedChunk } from '../../src/imaging/tiff-codec/band-reader.js';
import { encodedBandSink } from '../../src/imaging/tiff-codec/band-sink.js';
import { decodeChunk } from '../../src/imaging/tiff-codec/chunk-codec.js';
import {
  chunkRowCount,
  chunksAcross,
  outputGeometry,
  type ChunkGeometry,
} from '../../src/imaging/tiff-codec/geometry.js';
import { bytesOfImage, colourspaceFor, lowContrastImage, rng } from '../support/images.js';
import type { RawImage } from '../support/oracle.js';
import { writeChunkTable, writeOddTiff } from '../support/tiff-file.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tiff-codec-'));
});
after(() => (process.env.KEEP ? undefined : rm(dir, { recursive: true, force: true })));

interface Case {
  compression: 'lzw' | 'deflate' | 'packbits' | 'none';
  predictor: 'none' | 'horizontal';
  tile: boolean;
  channels: RawImage['channels'];
  depth: RawImage['depth'];
  width: number;
  height: number;
}

/** Seeded cases over every codec, predictor, layout and depth, sizes off the tile grid. */
function cases(): Case[] {
  const random = rng(2026);
  const out: Case[] = [];
  for (const compression of ['lzw', 'deflate', 'packbits', 'none'] as const) {
    for (const predictor of ['none', 'horizontal'] as const) {
      // libvips applies a predictor with LZW and deflate only.
      if (predictor === 'horizontal' && (compression === 'packbits' || compression === 'none'))
        continue;
      for (const tile of [false, true]) {
        out.push({
          compression,
          predictor,
          tile,
          channels: (1 + Math.floor(random() * 4)) as Case['channels'],
          depth: random() < 0.5 ? 8 : 16,
          width: 17 + Math.floor(random() * 300),
          height: 9 + Math.floor(random() * 200),
        });
      }
    }
  }
  return out;
}

async function writeWithSharp(image: RawImage, c: Case, path: string): Promise<void> {
  await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels },
  })
    .toColourspace(colourspaceFor(image))
    .tiff({
      compression: c.compression,
      predictor: c.predictor,
      tile: c.tile,
      tileWidth: 32,
      tileHeight: 48,
    })
    .toFile(path);
}

/** The page's chunk table file and the whole page as one band. */
async function wholeBand(path: string, info: ImageInfo) {
  const { table } = await writeChunkTable(path, info.page);
  return {
    path,
    layout: info.layout,
    codec: { geometry: info.codec!, table, tableOffset: 0, top: 0 },
  };
}

async function decodeAll(ref: Awaited<ReturnType<typeof wholeBand>>): Promise<Uint8Array> {
  const out = new Uint8Array(
    ref.layout.width * ref.layout.height * ref.layout.channels * (ref.layout.depth / 8),
  );
  await forEachDecodedChunk(ref, (bytes, _layout, at) => out.set(bytes, at));
  return out;
}

/** Encodes `pixels` like the geometry into one band file and assembles a TIFF from it. */
async function encodeAll(
  g: ChunkGeometry,
  pixels: Uint8Array,
  upload: string,
  out: string,
  classicLimit?: number,
): Promise<void> {
  const band = `${out}.band`;
  const sink = encodedBandSink(band, outputGeometry(g), 0, g.layout.height);
  // In uneven pieces: the sink must not care how rows arrive.
  const row = g.layout.width * g.layout.channels * (g.layout.depth / 8);
  for (let y = 0, step = 1; y < g.layout.height; y += step, step = (step % 5) + 1) {
    const rows = Math.min(step, g.layout.height - y);
    await sink.write(pixels.slice(y * row, (y + rows) * row), y * row);
  }
  await sink.finish();
  const bands = [{ path: band, chunks: chunksAcross(g) * chunkRowCount(g) }];
  await assembleTiff(upload, 0, bands, out, classicLimit);
}

async function sharpRaw(path: string, image: RawImage): Promise<Uint8Array> {
  const decoded = await sharp(path)
    .toColourspace(colourspaceFor(image))
    .raw({ depth: image.depth === 16 ? 'ushort' : 'uchar' })
    .toBuffer();
  return new Uint8Array(decoded);
}

describe('TIFF chunks against libtiff (sharp)', () => {
  for (const [i, c] of cases().entries()) {
    const name = `${c.compression}, predictor ${c.predictor}, ${c.tile ? 'tiles' : 'strips'}, ${c.channels} channel(s), ${c.depth}-bit, ${c.width}×${c.height}`;
    it(`decodes and encodes ${name}`, async () => {
      const image = lowContrastImage(c.width, c.height, c.channels, c.depth, 100 + i);
      const input = join(dir, `in-${i}.tif`);
      await writeWithSharp(image, c, input);
      const info = await probeImage(input, { maxPixels: 1e9 });
      assert.ok(info.codec, 'the page is chunked');
      assert.deepEqual(info.layout, {
        width: c.width,
        height: c.height,
        channels: c.channels,
        depth: c.depth,
      });
      assert.equal(info.codec.tiled, c.tile);
      // Decoding: the samples sharp was given.
      assert.deepEqual(await decodeAll(await wholeBand(input, info)), bytesOfImage(image));
      // Encoding: libtiff reads back the same samples, and the tags came along.
      const output = join(dir, `out-${i}.tif`);
      await encodeAll(info.codec, bytesOfImage(image), input, output);
      if (image.channels !== 2 || image.depth !== 8) {
        assert.deepEqual(await sharpRaw(output, image), bytesOfImage(image));
      }
      // Resolution and its unit come along (libvips wrote them; sharp does not report them).
      const [inIfd, outIfd] = await Promise.all([readTiffIfd(input, 0), readTiffIfd(output, 0)]);
      for (const tag of [282, 283, 296]) {
        assert.ok(inIfd!.fields.has(tag), `the input has tag ${tag}`);
        assert.deepEqual(outIfd!.fields.get(tag), inIfd!.fields.get(tag), `tag ${tag}`);
      }
      const again = await probeImage(output, { maxPixels: 1e9 });
      assert.deepEqual(again.codec, {
        ...info.codec,
        compression: again.codec!.compression,
        littleEndian: true,
      });
      assert.deepEqual(await decodeAll(await wholeBand(output, again)), bytesOfImage(image));
    });
  }

  it('reads BigTIFF with strips out of file order and big-endian samples, and writes BigTIFF for it', async () => {
    const image = lowContrastImage(203, 77, 3, 16, 9);
    const input = join(dir, 'big.tif');
    await writeOddTiff(image, input, {
      bigTiff: true,
      reversed: true,
      rowsPerStrip: 10,
      bigEndian: true,
    });
    assert.deepEqual(
      await sharpRaw(input, image),
      bytesOfImage(image),
      'the writer itself is right',
    );
    const info = await probeImage(input, { maxPixels: 1e9 });
    assert.ok(info.codec);
    assert.deepEqual(await decodeAll(await wholeBand(input, info)), bytesOfImage(image));
    const output = join(dir, 'big-out.tif');
    await encodeAll(info.codec, bytesOfImage(image), input, output);
    const head = await readFile(output);
    assert.equal(head.readUInt16LE(2), 43, 'BigTIFF in, BigTIFF out');
    assert.deepEqual(await sharpRaw(output, image), bytesOfImage(image));
  });

  it('writes BigTIFF once the result would pass the classic 4 GiB limit', async () => {
    // The limit is lowered to just below this result's size: the decision, the 8-byte offsets
    // and the directory are the same code as for a 4 GiB result, without writing 4 GiB.
    const image = lowContrastImage(190, 130, 1, 8, 10);
    const input = join(dir, 'classic-in.tif');
    const lzwStrips: Case = {
      compression: 'lzw',
      predictor: 'horizontal',
      tile: false,
      channels: 1,
      depth: 8,
      width: 190,
      height: 130,
    };
    await writeWithSharp(image, lzwStrips, input);
    const info = await probeImage(input, { maxPixels: 1e9 });
    const classic = join(dir, 'classic-out.tif');
    await encodeAll(info.codec!, bytesOfImage(image), input, classic);
    assert.equal((await readFile(classic)).readUInt16LE(2), 42, 'small enough: classic TIFF');
    // A classic result is its header and directory, then the data: its size is what the limit
    // is compared with.
    const size = (await readFile(classic)).byteLength;
    for (const [limit, version] of [
      [size, 43],
      [size + 1, 42],
      [1, 43],
    ] as const) {
      const output = join(dir, `limit-${limit}.tif`);
      await encodeAll(info.codec!, bytesOfImage(image), input, output, limit);
      assert.equal((await readFile(output)).readUInt16LE(2), version, `limit ${limit}`);
      assert.deepEqual(await sharpRaw(output, image), bytesOfImage(image), `limit ${limit}`);
      const again = await probeImage(output, { maxPixels: 1e9 });
      assert.deepEqual(await decodeAll(await wholeBand(output, again)), bytesOfImage(image));
    }
  });

  it('interleaved readers of different pages share the thread buffers safely', async () => {
    const refs = [];
    const images = [];
    for (const [i, c] of cases().slice(0, 4).entries()) {
      const image = lowContrastImage(c.width, c.height, c.channels, c.depth, 500 + i);
      const input = join(dir, `mix-${i}.tif`);
      await writeWithSharp(image, c, input);
      refs.push(await wholeBand(input, await probeImage(input, { maxPixels: 1e9 })));
      images.push(image);
    }
    const readers = refs.map((r) => new BandReader(r));
    const random = rng(77);
    try {
      for (let k = 0; k < 60; k++) {
        const i = Math.floor(random() * readers.length);
        const reader = readers[i]!;
        const r = Math.floor(random() * reader.chunkRows);
        const { layout }: { layout: RawImage } | { layout: ImageInfo['layout'] } = refs[i]!;
        const row: number = layout.width * layout.channels * (layout.depth / 8);
        const dst: Uint8Array = new Uint8Array(reader.rowsIn(r) * row);
        await reader.readChunkRow(r, dst);
        const top: number = r * refs[i]!.codec.geometry.chunkHeight * row;
        assert.deepEqual(dst, bytesOfImage(images[i]!).subarray(top, top + dst.length));
      }
    } finally {
      for (const reader of readers) reader.close();
    }
  });

  it('a corrupt chunk is refused with a sentence', () => {
    const g: ChunkGeometry = {
      layout: { width: 10, height: 2, channels: 1, depth: 8 },
      tiled: false,
      chunkWidth: 10,
      chunkHeight: 2,
      compression: 8,
      predictor: 1,
      littleEndian: true,
    };
    assert.throws(() => decodeChunk(g, new Uint8Array([1, 2, 3]), new Uint8Array(20)), {
      code: 'BAD_INPUT',
      message: /compressed data is corrupt/,
    });
  });
});
