import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, createDeflate } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { sampledRowsOfOneChunkRow } from '../../src/jobs/master/result-check.js';
import { sharedLayout } from '../../src/jobs/paths.js';
import { parsePayload, type TaskPayload } from '../../src/jobs/task-spec.js';
import { TaskExecutor } from '../../src/jobs/worker/task-executor.js';
import { ImagePool } from '../../src/pool/image-pool.js';
import { applyLutsScalar } from '../../src/imaging/equalize.js';
import { probeImage } from '../../src/imaging/probe.js';
import type { ImageInfo } from '../../src/imaging/image-info.js';
import { assembleTiff } from '../../src/imaging/tiff-codec/assemble.js';
import type { CodecBandRef } from '../../src/imaging/tiff-codec/band.js';
import { BandReader } from '../../src/imaging/tiff-codec/band-reader.js';
import { encodedBandSink } from '../../src/imaging/tiff-codec/band-sink.js';
import { decodeChunk } from '../../src/imaging/tiff-codec/chunk-codec.js';
import {
  chunkRowCount,
  chunksAcross,
  outputGeometry,
  type ChunkGeometry,
} from '../../src/imaging/tiff-codec/geometry.js';
import { rowBytes, samplesOf, type Lut } from '../../src/imaging/types.js';
import { verifyStrip } from '../../src/pool/verify-strip.js';
import { bytesOfImage, colourspaceFor, lowContrastImage, rng } from '../support/images.js';
import type { RawImage } from '../support/oracle.js';
import { writeChunkTable } from '../support/tiff-file.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'band-check-'));
});
after(() => (process.env.KEEP ? undefined : rm(dir, { recursive: true, force: true })));

type Compression = 'lzw' | 'deflate' | 'packbits' | 'none';
type BandRef = CodecBandRef & { offset: number };

interface Page {
  image: RawImage;
  ref: BandRef;
  info: ImageInfo & { codec: ChunkGeometry };
  upload: string;
}

/** A page written by libtiff (sharp), as one band of the whole page. */
async function pageOf(
  name: string,
  compression: Compression,
  tile: boolean,
  image: RawImage,
): Promise<Page> {
  const upload = join(dir, `${name}.tif`);
  const predictor = compression === 'lzw' || compression === 'deflate' ? 'horizontal' : 'none';
  await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels },
  })
    .toColourspace(colourspaceFor(image))
    .tiff({ compression, predictor, tile, tileWidth: 32, tileHeight: 48 })
    .toFile(upload);
  const info = await probeImage(upload, { maxPixels: 1e9 });
  assert.ok(info.codec, 'the page is chunked');
  const { table } = await writeChunkTable(upload);
  const codec = { geometry: info.codec, table, tableOffset: 0, top: 0 };
  return {
    image,
    upload,
    info: { ...info, codec: info.codec },
    ref: { path: upload, offset: 0, layout: info.layout, codec },
  };
}

/** Encodes `pixels` like the page into a band file, as an equalize task does. */
async function bandFileOf(page: Page, pixels: Uint8Array, path: string) {
  const g = outputGeometry(page.info.codec);
  const sink = encodedBandSink(path, g, 0, g.layout.height);
  await sink.write(pixels, 0);
  const sha256 = await sink.finish();
  const chunks = chunksAcross(g) * chunkRowCount(g);
  const { size } = await import('node:fs/promises').then((fs) => fs.stat(path));
  const ref: BandRef = {
    path,
    offset: 0,
    layout: page.info.layout,
    codec: { geometry: g, table: path, tableOffset: size - chunks * 16, top: 0 },
  };
  return { sha256, chunks, ref };
}

/** A LUT per plane of seeded random values: every sample changes. */
function randomLut(page: Page, seed: number): Lut {
  const random = rng(seed);
  const bins = page.image.depth === 16 ? 65536 : 256;
  const planes = page.image.channels;
  const lut =
    page.image.depth === 16 ? new Uint16Array(bins * planes) : new Uint8Array(bins * planes);
  for (let i = 0; i < lut.length; i++) lut[i] = Math.floor(random() * bins);
  return lut;
}

function equalized(page: Page, lut: Lut): Uint8Array {
  const pixels = bytesOfImage(page.image).slice();
  applyLutsScalar(samplesOf(pixels, page.info.layout), page.info.layout, 'per-channel', lut);
  return pixels;
}

describe('the result check of chunked pages', () => {
  it('decoding the first rows of a chunk row gives the rows a full decode gives, interleaved', async () => {
    const random = rng(4242);
    const pages: Page[] = [];
    for (const compression of ['lzw', 'deflate', 'packbits', 'none'] as const) {
      // Uncompressed strips are read in place, not decoded.
      for (const tile of compression === 'none' ? [true] : [false, true]) {
        const channels = (1 + Math.floor(random() * 4)) as RawImage['channels'];
        const depth = random() < 0.5 ? 8 : 16;
        const width = 40 + Math.floor(random() * 200);
        const height = 50 + Math.floor(random() * 150);
        const image = lowContrastImage(width, height, channels, depth, 900 + pages.length);
        pages.push(await pageOf(`first-rows-${pages.length}`, compression, tile, image));
      }
    }
    const readers = pages.map((p) => new BandReader(p.ref));
    try {
      // Partial and whole reads of different pages in random order share the thread's buffers.
      for (let k = 0; k < 120; k++) {
        const i = Math.floor(random() * pages.length);
        const reader = readers[i]!;
        const { layout, codec } = pages[i]!.ref;
        const r = Math.floor(random() * reader.chunkRows);
        const rows =
          random() < 0.3 ? reader.rowsIn(r) : 1 + Math.floor(random() * reader.rowsIn(r));
        const row = rowBytes(layout);
        const dst = new Uint8Array(rows * row).fill(0xa5);
        await reader.readChunkRow(r, dst, rows);
        const top = r * codec.geometry.chunkHeight * row;
        const want = bytesOfImage(pages[i]!.image).subarray(top, top + rows * row);
        assert.deepEqual(dst, want, `page ${i}, chunk row ${r}, ${rows} rows`);
      }
    } finally {
      for (const reader of readers) reader.close();
    }
  });

  it('a deflate stream that stores more than it holds is inflated far enough, and a cut one is refused', async () => {
    const random = rng(7);
    const samples = new Uint8Array(3000).map(() => Math.floor(random() * 256));
    // Flushed after every few bytes: the stream is several times the size of its samples.
    const stored = await new Promise<Uint8Array>((resolve, reject) => {
      const parts: Buffer[] = [];
      const z = createDeflate();
      z.on('data', (b: Buffer) => parts.push(b));
      z.on('end', () => resolve(new Uint8Array(Buffer.concat(parts))));
      z.on('error', reject);
      const writeFrom = (at: number): void => {
        if (at >= samples.length) return void z.end();
        z.write(samples.subarray(at, at + 3));
        z.flush(constants.Z_SYNC_FLUSH, () => writeFrom(at + 3));
      };
      writeFrom(0);
    });
    assert.ok(stored.length > 2 * samples.length, `${stored.length} stored bytes`);
    const g: ChunkGeometry = {
      layout: { width: 100, height: 30, channels: 1, depth: 8 },
      tiled: false,
      chunkWidth: 100,
      chunkHeight: 30,
      compression: 8,
      predictor: 1,
      littleEndian: true,
    };
    for (const rows of [1, 7, 29, 30]) {
      const dst = new Uint8Array(rows * 100);
      decodeChunk(g, stored, dst, samples.length);
      assert.deepEqual(dst, samples.subarray(0, rows * 100), `${rows} rows`);
    }
    assert.throws(
      () => decodeChunk(g, stored.subarray(0, 200), new Uint8Array(2000), samples.length),
      { code: 'BAD_INPUT', message: /compressed data is corrupt/ },
    );
  });

  it('the sampled rows lie at the top of one chunk row, a bounded number of bytes per band', async () => {
    const page = await pageOf('sampled', 'lzw', false, lowContrastImage(300, 200, 1, 8, 5));
    const g = page.info.codec;
    for (const [job, rows] of [
      ['a', 200],
      ['b', 97],
      ['c', 1],
    ] as const) {
      for (const strip of [0, 3]) {
        const sampled = sampledRowsOfOneChunkRow(job, strip, rows, page.ref.codec);
        assert.deepEqual(sampled, sampledRowsOfOneChunkRow(job, strip, rows, page.ref.codec));
        const top = Math.floor(sampled[0]! / g.chunkHeight) * g.chunkHeight;
        assert.equal(sampled[0], top, 'the chunk row starts the sample');
        assert.ok(sampled.every((y) => y < rows && y < top + g.chunkHeight));
      }
    }
    // 256 KiB of rows at most: 20000 pixels of 16-bit RGB are 120000 bytes a row.
    const wide = {
      ...page.ref.codec,
      geometry: {
        ...g,
        chunkHeight: 256,
        layout: { width: 20000, height: 4000, channels: 3 as const, depth: 16 as const },
      },
    };
    const sampled = sampledRowsOfOneChunkRow('w', 1, 4000, wide);
    assert.ok(sampled.at(-1)! - sampled[0]! < 3, `${sampled.join(', ')}`);
  });

  it('a wrong sampled row fails the check, the right band passes, without reading the hash', async () => {
    for (const [i, compression] of (['lzw', 'deflate', 'packbits'] as const).entries()) {
      for (const tile of [false, true]) {
        const image = lowContrastImage(150, 130, 3, i === 1 ? 16 : 8, 40 + i);
        const page = await pageOf(`wrong-row-${i}-${tile}`, compression, tile, image);
        const lut = randomLut(page, 60 + i);
        const right = await bandFileOf(
          page,
          equalized(page, lut),
          join(dir, `right-${i}-${tile}.band`),
        );
        const rows = sampledRowsOfOneChunkRow('job', i, image.height, page.ref.codec);
        const request = {
          kind: 'verify' as const,
          source: page.ref,
          rows,
          mode: 'per-channel' as const,
          lut,
        };
        assert.deepEqual(await verifyStrip({ ...request, result: right.ref }), { problem: null });
        // One sampled row spoiled at one random byte: the hash was never taken of it.
        const spoiled = equalized(page, lut);
        const random = rng(80 + i);
        const y = rows[Math.floor(random() * rows.length)]!;
        const row = rowBytes(page.info.layout);
        const x = Math.floor(random() * row);
        spoiled[y * row + x] ^= 0x10;
        const wrong = await bandFileOf(page, spoiled, join(dir, `wrong-${i}-${tile}.band`));
        const { problem } = await verifyStrip({ ...request, result: wrong.ref });
        assert.equal(problem, `row ${y} differs from the source through the LUT at byte ${x}`);
      }
    }
  });

  it('the assembly hashes each band as it copies it: a changed byte anywhere publishes nothing', async () => {
    const image = lowContrastImage(120, 160, 1, 8, 71);
    const page = await pageOf('assembly', 'lzw', false, image);
    const lut = randomLut(page, 72);
    const band = await bandFileOf(page, equalized(page, lut), join(dir, 'assembly.band'));
    const out = join(dir, 'assembly-out.tif');
    const files = [{ path: band.ref.path, chunks: band.chunks, sha256: band.sha256 }];
    assert.deepEqual((await assembleTiff(page.upload, 0, files, out)).mismatched, []);
    const published = await readFile(out);
    const bytes = await readFile(band.ref.path);
    const random = rng(73);
    for (let k = 0; k < 6; k++) {
      // Anywhere in the chunks, or in their table (which then no longer reads as one).
      const at = k < 5 ? Math.floor(random() * band.ref.codec.tableOffset) : bytes.length - 1;
      const torn = Buffer.from(bytes);
      torn[at] ^= 0x01;
      const tornPath = join(dir, `torn-${k}.band`);
      await writeFile(tornPath, torn);
      // Beside an intact band: only the changed one is named.
      const tornFiles = [files[0]!, { ...files[0]!, path: tornPath }];
      const { mismatched } = await assembleTiff(page.upload, 0, tornFiles, out);
      assert.deepEqual(mismatched, [1], `byte ${at}`);
      await assert.rejects(access(out), 'nothing is published, an older result is removed');
      await writeFile(out, published);
    }
    // Without checksums (no check asked for) it copies what is there.
    const unchecked = [{ path: band.ref.path, chunks: band.chunks }];
    assert.deepEqual((await assembleTiff(page.upload, 0, unchecked, out)).mismatched, []);
    assert.deepEqual(await readFile(out), published);
  });

  it('an assemble task on any pod: the same bytes from SHARED_DIR paths, torn bands named in its done', async () => {
    const image = lowContrastImage(90, 130, 1, 8, 74);
    const page = await pageOf('assemble-task', 'lzw', false, image);
    const band = await bandFileOf(page, equalized(page, randomLut(page, 75)), join(dir, 't.band'));
    const direct = join(dir, 'assemble-direct.tif');
    await assembleTiff(page.upload, 0, [{ ...band, path: band.ref.path }], direct);
    const torn = Buffer.from(await readFile(band.ref.path));
    torn[Math.floor(rng(76)() * band.ref.codec.tableOffset)]! ^= 0x02;
    await writeFile(join(dir, 'torn.band'), torn);

    const pool = ImagePool.create({ threads: 1 });
    try {
      const executor = new TaskExecutor(pool, sharedLayout(dir));
      const task = (bands: string[]): TaskPayload =>
        parsePayload(
          JSON.parse(
            JSON.stringify({
              kind: 'assemble',
              job: 'j',
              index: 0,
              source: { path: 'assemble-task.tif', offset: 0, layout: page.info.layout },
              mode: 'luma',
              output: 'work/j/assembled.tif',
              assembly: {
                upload: 'assemble-task.tif',
                page: 0,
                bands: bands.map((path) => ({ path, chunks: band.chunks, sha256: band.sha256 })),
              },
            }),
          ) as Record<string, unknown>,
        );
      await mkdir(join(dir, 'work/j'), { recursive: true });
      const out = join(dir, 'work/j/assembled.tif');
      const done = await executor.run(task(['t.band']), 1);
      assert.deepEqual(done.mismatched, []);
      assert.equal(done.pointer, 'work/j/assembled.tif');
      assert.deepEqual(await readFile(out), await readFile(direct));
      // Interleaved on the same thread: a torn band between two good ones is named alone.
      const tornDone = await executor.run(task(['t.band', 'torn.band', 't.band']), 2);
      assert.deepEqual(tornDone.mismatched, [1]);
      await assert.rejects(access(out), 'nothing is written, the older result removed');
      assert.deepEqual((await executor.run(task(['t.band']), 3)).mismatched, []);
      assert.deepEqual(await readFile(out), await readFile(direct));
    } finally {
      await pool.close();
    }
    assert.throws(
      () =>
        parsePayload({ kind: 'assemble', job: 'j', index: 0, source: { path: 'x' }, output: 'o' }),
      /task spec is malformed/,
    );
  });
});
