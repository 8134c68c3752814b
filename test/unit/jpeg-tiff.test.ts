import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp, { type TiffOptions } from 'sharp';
import { applyLuts } from '../../src/imaging/equalize.js';
import { forEachDecodedChunk } from '../../src/imaging/tiff-codec/band-reader.js';
import { encodedBandSink } from '../../src/imaging/tiff-codec/band-sink.js';
import { outputGeometry } from '../../src/imaging/tiff-codec/geometry.js';
import { decodeJpegChunk } from '../../src/imaging/tiff-codec/jpeg-chunk.js';
import type { ChunkGeometry } from '../../src/imaging/tiff-codec/geometry.js';
import { samplesOf } from '../../src/imaging/types.js';
import { verifyBand } from '../../src/pool/verify-band.js';
import { probeImage } from '../../src/imaging/probe.js';
import { imageBytes } from '../../src/imaging/types.js';
import { sharedLayout } from '../../src/jobs/paths.js';
import { storageFor } from '../../src/jobs/storage/job-storage.js';
import { colourspaceFor, lowContrastImage, rng } from '../support/images.js';
import { writeFullStreamTiles } from '../support/jpeg-tiff.js';
import type { RawImage } from '../support/oracle.js';
import { writeChunkTable } from '../support/tiff-file.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jpeg-tiff-'));
});
after(() => rm(dir, { recursive: true, force: true }));

interface Page {
  name: string;
  path: string;
  table: string;
  geometry: ChunkGeometry;
  /** The page as libvips (libtiff's own JPEG reading) decodes it whole. */
  expected: Uint8Array;
}

async function writePage(name: string, image: RawImage, options: TiffOptions): Promise<Page> {
  const path = join(dir, `${name}.tif`);
  await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels },
  })
    .toColourspace(colourspaceFor(image))
    .tiff(options)
    .toFile(path);
  return pageOf(name, path, image);
}

async function pageOf(name: string, path: string, image: RawImage): Promise<Page> {
  const { table, geometry } = await writeChunkTable(path, 0, join(dir, `${name}.chunks`));
  const decoded = sharp(path).toColourspace(colourspaceFor(image));
  const depth = image.depth === 16 ? 'ushort' : 'uchar';
  const expected = new Uint8Array(await decoded.raw({ depth }).toBuffer());
  return { name, path, table, geometry, expected };
}

/** Decodes rows [top, top + rows) of `page` through the tasks' band reader. */
async function decodeBand(page: Page, top: number, rows: number): Promise<Uint8Array> {
  const g = page.geometry;
  const row = g.layout.width * g.layout.channels * (g.layout.depth / 8);
  const out = new Uint8Array(rows * row);
  const across = g.tiled ? Math.ceil(g.layout.width / g.chunkWidth) : 1;
  await forEachDecodedChunk(
    {
      path: page.path,
      layout: { ...g.layout, height: rows },
      codec: {
        geometry: g,
        table: page.table,
        tableOffset: (top / g.chunkHeight) * across * 16,
        top,
      },
    },
    (bytes, _layout, at) => {
      out.set(bytes, at);
    },
  );
  return out;
}

describe('JPEG-compressed TIFF pages decoded chunk by chunk', () => {
  it('equal libtiff whole-page decodes, interleaved with other JPEG tables and LZW at 8 and 16 bits', async () => {
    const pages = [
      await writePage('grey-tiles-q75', lowContrastImage(213, 150, 1, 8, 1), {
        compression: 'jpeg',
        quality: 75,
        tile: true,
        tileWidth: 64,
        tileHeight: 48,
      }),
      await writePage('rgb-tiles-q50', lowContrastImage(150, 100, 3, 8, 2), {
        compression: 'jpeg',
        quality: 50,
        tile: true,
        tileWidth: 32,
        tileHeight: 32,
      }),
      await writePage('rgb-strips-q80', lowContrastImage(97, 530, 3, 8, 3), {
        compression: 'jpeg',
        quality: 80,
      }),
      await pageOf(
        'ycbcr444-full-streams',
        await writeFullStreamTiles(
          join(dir, 'ycbcr444.tif'),
          lowContrastImage(100, 75, 3, 8, 6),
          32,
        ),
        lowContrastImage(100, 75, 3, 8, 6),
      ),
      await writePage('grey-lzw', lowContrastImage(120, 77, 1, 8, 4), { compression: 'lzw' }),
      await writePage('rgb16-lzw-tiles', lowContrastImage(90, 70, 3, 16, 5), {
        compression: 'lzw',
        tile: true,
        tileWidth: 32,
        tileHeight: 16,
      }),
    ];
    assert.deepEqual(
      pages.map((p) => p.geometry.jpeg?.subsampling ?? null),
      [[1, 1], [2, 2], [2, 2], [1, 1], null, null],
      'libvips writes grey as one component and colour as 4:2:0 YCbCr',
    );
    assert.ok(pages[2]!.geometry.chunkHeight < 530, 'the strip page has several strips');
    assert.equal(pages[3]!.geometry.jpeg?.tables, undefined, 'complete streams need no tables');
    assert.deepEqual(outputGeometry(pages[3]!.geometry).jpeg, { subsampling: [1, 1] });
    assert.deepEqual(outputGeometry(pages[1]!.geometry).jpeg, { subsampling: [2, 2] });
    const random = rng(42);
    for (let i = 0; i < 40; i++) {
      const page = pages[Math.floor(random() * pages.length)]!;
      const g = page.geometry;
      const chunkRows = Math.ceil(g.layout.height / g.chunkHeight);
      const first = Math.floor(random() * chunkRows);
      const last = first + Math.floor(random() * (chunkRows - first));
      const top = first * g.chunkHeight;
      const rows = Math.min(g.layout.height, (last + 1) * g.chunkHeight) - top;
      const got = await decodeBand(page, top, rows);
      const row = got.byteLength / rows;
      const want = page.expected.subarray(top * row, (top + rows) * row);
      assert.ok(Buffer.from(got).equals(want), `${page.name}, rows ${top}+${rows} (case ${i})`);
    }
  });
});

describe('the result check of a JPEG band', () => {
  it('passes the band its task encoded and refuses one encoded through another LUT', async () => {
    const random = rng(9);
    for (const [k, options] of [
      { tile: true, tileWidth: 32, tileHeight: 32 },
      {}, // strips
    ].entries()) {
      const page = await writePage(`check-${k}`, lowContrastImage(150, 300, 1, 8, 20 + k), {
        compression: 'jpeg',
        quality: 75,
        ...options,
      });
      const g = page.geometry;
      const lut = new Uint8Array(256).map((_, v) => 255 - v);
      const band = async (name: string, table: Uint8Array) => {
        const path = join(dir, name);
        const sink = encodedBandSink(path, outputGeometry(g), 0, g.layout.height);
        const rows = await decodeBand(page, 0, g.layout.height);
        applyLuts(samplesOf(rows, g.layout), g.layout, 'luma', table);
        await sink.write(rows, 0);
        return { path, checksum: await sink.finish() };
      };
      const source = {
        path: page.path,
        offset: 0,
        layout: g.layout,
        codec: { geometry: g, table: page.table, tableOffset: 0, top: 0 },
      };
      const check = async (written: { path: string; checksum: string }) => {
        const chunks =
          Math.ceil(g.layout.height / g.chunkHeight) *
          (g.tiled ? Math.ceil(g.layout.width / g.chunkWidth) : 1);
        const { size } = await stat(written.path);
        const rows = [0, 1, ...[1, 2, 3].map(() => Math.floor(random() * g.layout.height))];
        return verifyBand({
          kind: 'verify',
          source,
          result: {
            path: written.path,
            offset: 0,
            layout: g.layout,
            codec: {
              geometry: outputGeometry(g),
              table: written.path,
              tableOffset: size - chunks * 16,
              top: 0,
            },
          },
          checksum: written.checksum,
          rows: [...new Set(rows)].sort((a, b) => a - b),
          mode: 'luma',
          lut,
        });
      };
      assert.deepEqual(await check(await band(`good-${k}`, lut)), { problem: null });
      const other = lut.map((v) => (v > 100 && v < 200 ? v - 1 : v));
      const bad = await check(await band(`bad-${k}`, other));
      assert.match(bad.problem ?? '', /^row \d+ differs from the source through the LUT/);
    }
  });
});

describe('a damaged JPEG chunk', () => {
  it('is refused with a sentence: cut short, or claiming a larger frame than its tile', async () => {
    const g = outputGeometry(
      (await writePage('damaged', lowContrastImage(64, 32, 1, 8, 30), { compression: 'jpeg' }))
        .geometry,
    );
    const tile = new Uint8Array(64 * 32);
    const raw = { width: 64, height: 32, channels: 1 as const };
    const whole = await sharp(Buffer.alloc(64 * 32, 90), { raw })
      .toColourspace('b-w')
      .jpeg()
      .toBuffer();
    await decodeJpegChunk(g, whole, tile);
    assert.ok(
      tile.every((v) => Math.abs(v - 90) <= 1),
      'a flat chunk decodes flat',
    );
    const larger = await sharp(Buffer.alloc(128 * 64, 90), {
      raw: { ...raw, width: 128, height: 64 },
    })
      .toColourspace('b-w')
      .jpeg()
      .toBuffer();
    for (const bad of [whole.subarray(0, whole.length >> 1), larger]) {
      await assert.rejects(decodeJpegChunk(g, bad, tile), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'BAD_INPUT');
        assert.match(err.message, /JPEG .*; check the file and upload it again\.$/);
        return true;
      });
    }
  });
});

describe('the storage of a JPEG page', () => {
  it('is the codec path, and counts room for re-encoded bands and result up to the raw size', async () => {
    const image = lowContrastImage(300, 200, 3, 8, 40);
    const page = await writePage('room', image, { compression: 'jpeg', quality: 30 });
    const info = await probeImage(page.path, { maxPixels: 1e9 });
    const storage = storageFor(sharedLayout(dir), 'job', 'uploads/room.tif', info);
    assert.equal(storage.kind, 'codec');
    // Kept decoded bands, then bands and result each at most the raw samples.
    assert.ok(storage.extraBytes >= 3 * imageBytes(info.layout));
  });
});
