import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { readTiffIfd } from '../../src/imaging/tiff-ifd.js';
import {
  decodeChunk,
  encodeChunk,
  lzwPredictorOf,
} from '../../src/imaging/tiff-codec/chunk-codec.js';
import { chunkBytes, type ChunkGeometry } from '../../src/imaging/tiff-codec/geometry.js';
import { decodeLzw, encodeLzw } from '../../src/imaging/tiff-codec/lzw.js';
import { applyHorizontal, undoHorizontal } from '../../src/imaging/tiff-codec/predictor.js';
import { codecPageOf } from '../../src/imaging/tiff-codec/page.js';
import { LZW_WASM_BASE64 } from '../../src/imaging/tiff-codec/wasm/lzw-binary.js';
import { bytesOfImage, colourspaceFor, decodeRaw, rng } from '../support/images.js';
import type { RawImage } from '../support/oracle.js';
import { writeOddTiff } from '../support/tiff-file.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lzw-'));
});
after(() => (process.env.KEEP ? undefined : rm(dir, { recursive: true, force: true })));

type Kind = 'noise' | 'runs' | 'mixed';

/**
 * Seeded bytes of one kind: noise (about a code per byte: every code width and many table
 * clears), long runs (long strings, copied in bulk), or runs and noise mixed like an image
 * after a predictor.
 */
function bytesOf(kind: Kind, length: number, seed: number): Uint8Array {
  const random = rng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length;) {
    const long = kind === 'runs' || (kind === 'mixed' && random() < 0.3);
    const run = kind === 'noise' ? 1 : 1 + Math.floor(random() * (long ? 2000 : 4));
    const value = Math.floor(random() * (random() < 0.5 ? 4 : 256));
    for (let k = 0; k < run && i < length; k++)
      out[i++] = kind !== 'runs' && random() < 0.1 ? Math.floor(random() * 256) : value;
  }
  return out;
}

/** Stream lengths around the 9→10→11→12-bit width changes and the first table clears. */
function lengths(random: () => number): number[] {
  return [
    0,
    1,
    2,
    255,
    256,
    257,
    4096,
    70_000,
    300_000,
    ...[1, 2, 3, 4, 5].map(() => Math.floor(random() * 50_000)),
  ];
}

/** A seeded image of grey, RGB or RGBA samples (the predictor works per channel). */
function imageOf(kind: Kind, depth: 8 | 16, size: () => number, seed: number): RawImage {
  const width = size();
  const height = size();
  const channels = ([1, 3, 4] as const)[seed % 3]!;
  const bytes = bytesOf(kind, width * height * channels * (depth / 8), seed);
  const data = depth === 8 ? bytes : new Uint16Array(bytes.buffer);
  return { width, height, channels, depth, data };
}

/** The geometry of an LZW page of `image` in strips of `rowsPerStrip`, little-endian. */
function lzwStrips(image: RawImage, rowsPerStrip: number, predictor: 1 | 2): ChunkGeometry {
  const { width, height, channels, depth } = image;
  return {
    layout: { width, height, channels, depth },
    tiled: false,
    chunkWidth: width,
    chunkHeight: rowsPerStrip,
    compression: 5,
    predictor,
    littleEndian: true,
  };
}

describe('LZW', () => {
  it('the committed lzw-binary.ts is a fresh compile of lzw.wat (npm run build:wasm)', async () => {
    const script = new URL('../../../scripts/build-wasm.mjs', import.meta.url).href;
    const { compileLzw } = (await import(script)) as { compileLzw: () => Promise<Uint8Array> };
    const committed = Uint8Array.from(Buffer.from(LZW_WASM_BASE64, 'base64'));
    assert.deepEqual(committed, await compileLzw());
  });

  it('decodes what it encodes, for every kind of data and across widths and clears', () => {
    const random = rng(11);
    for (const kind of ['noise', 'runs', 'mixed'] as const) {
      for (const length of lengths(random)) {
        const data = bytesOf(kind, length, length + 1);
        const encoded = encodeLzw(data).slice();
        const back = new Uint8Array(length);
        assert.equal(decodeLzw(encoded, back), length);
        assert.deepEqual(back, data, `${kind}, length ${length}`);
      }
    }
  });

  it('stops at the output size and refuses impossible codes', () => {
    for (const kind of ['noise', 'runs', 'mixed'] as const) {
      const data = bytesOf(kind, 20_000, 3);
      const encoded = encodeLzw(data).slice();
      for (const size of [0, 1, 500, 9999, 19_999]) {
        const short = new Uint8Array(size);
        assert.equal(decodeLzw(encoded, short), size);
        assert.deepEqual(short, data.subarray(0, size), `${kind}, ${size} bytes`);
      }
      // A cut stream decodes as far as it goes.
      const cut = new Uint8Array(20_000);
      const got = decodeLzw(encoded.subarray(0, encoded.length >> 1), cut);
      assert.ok(got > 0 && got < 20_000);
      assert.deepEqual(cut.subarray(0, got), data.subarray(0, got));
    }
    // Clear, a literal, then code 300 when only 258 can be defined next.
    const bits = [256, 65, 300].map((c) => c.toString(2).padStart(9, '0')).join('') + '00000';
    const bad = new Uint8Array(bits.length / 8).map((_, i) =>
      parseInt(bits.slice(8 * i, 8 * i + 8), 2),
    );
    assert.throws(() => decodeLzw(bad, new Uint8Array(10)), /corrupt/);
    // A string code right after Clear, before any literal.
    const early = [256, 258].map((c) => c.toString(2).padStart(9, '0')).join('') + '000000';
    const earlyBytes = new Uint8Array(early.length / 8).map((_, i) =>
      parseInt(early.slice(8 * i, 8 * i + 8), 2),
    );
    assert.throws(() => decodeLzw(earlyBytes, new Uint8Array(10)), /corrupt/);
  });

  it('interleaved encodes and decodes of growing and shrinking sizes keep each result', () => {
    const random = rng(21);
    const held: { data: Uint8Array; encoded: Uint8Array }[] = [];
    for (let k = 0; k < 40; k++) {
      // Sizes jump up and down, so the thread's memory grows in the middle of the sequence,
      // and once (40 MB of noise, 60 MB encoded) past the size at which a thread starts
      // afresh at its next smaller call.
      const huge = k === 30;
      const kind = huge
        ? 'noise'
        : (['noise', 'runs', 'mixed'] as const)[Math.floor(random() * 3)]!;
      const length = huge ? 40_000_000 : Math.floor(random() * (k < 20 ? 20_000 : 2_000_000));
      const data = bytesOf(kind, length, 1000 + k);
      const view = encodeLzw(data);
      const copy = view.slice();
      // Decoding another stream must not touch the encoder's result...
      if (held.length > 0) {
        const other = held[Math.floor(random() * held.length)]!;
        const back = new Uint8Array(other.data.length);
        assert.equal(decodeLzw(other.encoded, back), other.data.length);
        assert.deepEqual(back, other.data);
      }
      assert.deepEqual(view, copy, `encoder result ${k} intact after a decode`);
      held.push({ data, encoded: copy });
    }
    // ... and every stream still decodes after all the others.
    for (const { data, encoded } of held) {
      const back = new Uint8Array(data.length);
      decodeLzw(encoded, back);
      assert.deepEqual(back, data);
    }
  });

  it('its own predictor codes the same bytes as the JavaScript one (used for 16 bits on big-endian hosts)', () => {
    const random = rng(71);
    for (let i = 0; i < 24; i++) {
      const depth = i % 2 === 0 ? 8 : 16;
      const image = imageOf(
        i % 3 === 0 ? 'mixed' : 'runs',
        depth,
        () => 1 + Math.floor(random() * 300),
        90 + i,
      );
      const { width, channels } = image;
      const g = lzwStrips(image, image.height, 2);
      const raw = bytesOfImage(image);
      const own = lzwPredictorOf(g, true)!;
      assert.equal(lzwPredictorOf(g, false) === undefined, depth === 16);
      const viaCodec = encodeLzw(raw.slice(), own).slice();
      // The JavaScript predictor first, then LZW without one.
      const predicted = raw.slice();
      const view = depth === 16 ? new Uint16Array(predicted.buffer) : predicted;
      applyHorizontal(view, width, channels);
      assert.deepEqual(
        encodeLzw(predicted, undefined).slice(),
        viaCodec,
        `${depth}-bit, ${channels} ch`,
      );
      // And back: LZW without a predictor, then the JavaScript one undone.
      const back = new Uint8Array(raw.length);
      decodeLzw(viaCodec, back, undefined);
      undoHorizontal(depth === 16 ? new Uint16Array(back.buffer) : back, width, channels);
      assert.deepEqual(back, raw, `${depth}-bit, ${channels} ch, decoded`);
    }
  });

  it('libtiff reads the strips it encodes: 8 and 16 bits, with and without the predictor', async () => {
    const random = rng(31);
    let i = 0;
    for (const kind of ['noise', 'runs', 'mixed'] as const) {
      for (const depth of [8, 16] as const) {
        for (const predictor of [1, 2] as const) {
          const image = imageOf(kind, depth, () => 1 + Math.floor(random() * 400), 40 + i);
          const { width, height, channels } = image;
          const rowsPerStrip = 1 + Math.floor(random() * height);
          const g = lzwStrips(image, rowsPerStrip, predictor);
          const path = join(dir, `ours-${i++}.tif`);
          await writeOddTiff(image, path, {
            bigTiff: false,
            reversed: false,
            rowsPerStrip,
            encode: { compression: 5, predictor, strip: (raw) => encodeChunk(g, raw) },
          });
          const label = `${kind}, ${depth}-bit, predictor ${predictor}, ${channels} channel(s), ${width}×${height}/${rowsPerStrip}`;
          // libtiff (through sharp) is the independent reader.
          assert.deepEqual(await decodeRaw(path, image), image.data, label);
        }
      }
    }
  });

  it('decodes the strips libtiff encodes: 8 and 16 bits, with and without the predictor', async () => {
    const random = rng(41);
    let i = 0;
    for (const kind of ['noise', 'runs', 'mixed'] as const) {
      for (const depth of [8, 16] as const) {
        for (const predictor of ['none', 'horizontal'] as const) {
          const image = imageOf(kind, depth, () => 1 + Math.floor(random() * 500), 60 + i);
          const { width, height, channels } = image;
          const path = join(dir, `libtiff-${i++}.tif`);
          await sharp(image.data, { raw: { width, height, channels } })
            .toColourspace(colourspaceFor(image))
            .tiff({ compression: 'lzw', predictor })
            .toFile(path);
          const ifd = (await readTiffIfd(path, 0))!;
          const g = codecPageOf(ifd)!;
          assert.equal(g.compression, 5);
          const file = await readFile(path);
          const offsets = ifd.fields.get(273)!;
          const counts = ifd.fields.get(279)!;
          const out = new Uint8Array(bytesOfImage(image).length);
          let at = 0;
          offsets.forEach((offset, s) => {
            const dst = new Uint8Array(chunkBytes(g, s));
            decodeChunk(g, file.subarray(offset, offset + counts[s]!), dst);
            out.set(dst, at);
            at += dst.length;
          });
          const label = `${kind}, ${depth}-bit, ${predictor}, ${channels} channel(s)`;
          assert.deepEqual(out, bytesOfImage(image), label);
        }
      }
    }
  });
});
