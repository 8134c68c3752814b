import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { claheGrid, reflect101, type ClaheParams } from '../../src/imaging/clahe/grid.js';
import { interpolateRows } from '../../src/imaging/clahe/interpolate.js';
import { claheRowScalar } from '../../src/imaging/clahe/scalar.js';
import { buildClaheTables } from '../../src/imaging/clahe/tables.js';
import {
  BandTileHistograms,
  expectedBandCount,
  sumBandHistograms,
} from '../../src/imaging/clahe/tile-histograms.js';
import { claheImage } from '../../src/imaging/clahe/whole-image.js';
import { planStrips } from '../../src/imaging/strips.js';
import type { ColourMode, PixelLayout, Samples } from '../../src/imaging/types.js';
import { lowContrastImage, rng } from '../support/images.js';
import { oracleClaheBatch, type RawImage } from '../support/oracle.js';

type Op = 'grey' | 'per-channel' | 'luma';

interface Case {
  name: string;
  image: RawImage;
  op: Op;
  clahe: ClaheParams;
}

function modeOf(op: Op): ColourMode {
  return op === 'per-channel' ? 'per-channel' : 'luma';
}

function layoutOf(image: RawImage): PixelLayout {
  const { width, height, channels, depth } = image;
  return { width, height, channels, depth };
}

function filled(
  width: number,
  height: number,
  depth: 8 | 16,
  value: (x: number, y: number) => number,
): RawImage {
  const data = depth === 8 ? new Uint8Array(width * height) : new Uint16Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data[y * width + x] = value(x, y);
  return { width, height, channels: 1, depth, data };
}

/** Random values over the whole range (seeded), for tables far from the identity. */
function noise(width: number, height: number, depth: 8 | 16, seed: number): RawImage {
  const random = rng(seed);
  const max = depth === 8 ? 256 : 65536;
  return filled(width, height, depth, () => Math.floor(random() * random() * max));
}

function largestGrid(image: RawImage): { tilesX: number; tilesY: number } {
  return { tilesX: Math.min(image.width, 256), tilesY: Math.min(image.height, 256) };
}

/** The cases every test below checks against OpenCV, built once and sent in one batch. */
function buildCases(): Case[] {
  const cases: Case[] = [];
  const add = (name: string, image: RawImage, op: Op, clahe: ClaheParams) =>
    cases.push({
      name: `${name} ${op} clip ${clahe.clipLimit} ${clahe.tilesX}x${clahe.tilesY}`,
      image,
      op,
      clahe,
    });
  const grey8 = [
    ['odd 37×23', lowContrastImage(37, 23, 1, 8, 1)],
    ['divisible 64×40', lowContrastImage(64, 40, 1, 8, 2)],
    ['noise 53×61', noise(53, 61, 8, 3)],
    ['1×45', noise(1, 45, 8, 4)],
    ['45×1', noise(45, 1, 8, 5)],
    ['constant 19×17', filled(19, 17, 8, () => 77)],
    ['two values 29×31', filled(29, 31, 8, (x, y) => ((x * 7 + y * 3) % 5 === 0 ? 200 : 30))],
  ] as const;
  for (const [name, image] of grey8) {
    const grids = [
      { tilesX: 1, tilesY: 1 },
      { tilesX: 8, tilesY: 8 },
      { tilesX: 3, tilesY: 5 },
      largestGrid(image),
    ].filter((g) => g.tilesX <= image.width && g.tilesY <= image.height);
    for (const grid of grids) {
      for (const clipLimit of [1, 2, 40]) add(name, image, 'grey', { clipLimit, ...grid });
    }
  }
  add('fractional clip 40×30', lowContrastImage(40, 30, 1, 8, 6), 'grey', {
    clipLimit: 2.7,
    tilesX: 4,
    tilesY: 3,
  });
  const grey16 = [
    ['16-bit 37×29', lowContrastImage(37, 29, 1, 16, 7)],
    ['16-bit noise 24×16', noise(24, 16, 16, 8)],
    ['16-bit constant 11×13', filled(11, 13, 16, () => 40000)],
  ] as const;
  for (const [name, image] of grey16) {
    for (const grid of [
      { tilesX: 1, tilesY: 1 },
      { tilesX: 8, tilesY: 8 },
      { tilesX: 3, tilesY: 5 },
    ]) {
      for (const clipLimit of [1, 40]) add(name, image, 'grey', { clipLimit, ...grid });
    }
  }
  // The largest 16-bit grid of a small image (65,536 entries per tile).
  const small16 = noise(9, 7, 16, 9);
  for (const clipLimit of [1, 2, 40]) {
    add('16-bit noise 9×7', small16, 'grey', { clipLimit, ...largestGrid(small16) });
  }
  for (const depth of [8, 16] as const) {
    for (const channels of [2, 3, 4] as const) {
      const image = lowContrastImage(31, 27, channels, depth, 10 + channels + depth);
      for (const op of channels >= 3 ? (['luma', 'per-channel'] as const) : (['grey'] as const)) {
        add(`${channels}-channel ${depth}-bit 31×27`, image, op, {
          clipLimit: 2,
          tilesX: 3,
          tilesY: 5,
        });
      }
    }
  }
  return cases;
}

const cases = buildCases();
let expected: (Uint8Array | Uint16Array)[] = [];

/** The band-wise pipeline: histograms of each band in chunks, summed, tables, bands in chunks. */
function claheByBands(
  image: RawImage,
  mode: ColourMode,
  params: ClaheParams,
  bands: number,
  seed: number,
): Samples {
  const layout = layoutOf(image);
  const grid = claheGrid(layout, mode, params);
  const random = rng(seed);
  const rowLength = image.width * image.channels;
  const strips = planStrips(image.height, bands);
  /** Visits a band's rows as chunks of random height, each a copy (like a reused buffer). */
  const chunks = (
    top: number,
    rows: number,
    visit: (chunk: Samples, at: number, n: number) => void,
  ) => {
    for (let at = top; at < top + rows;) {
      const n = Math.min(top + rows - at, 1 + Math.floor(random() * 4));
      visit(image.data.slice(at * rowLength, (at + n) * rowLength), at, n);
      at += n;
    }
  };
  const serialized = strips.map((strip) => {
    const band = new BandTileHistograms(grid);
    chunks(strip.top, strip.rows, (chunk, at, n) =>
      band.addRows(chunk, { ...layout, height: n }, at, mode),
    );
    assert.equal(band.counted(), expectedBandCount(grid, strip.top, strip.rows));
    return band.serialize();
  });
  const tables = buildClaheTables(sumBandHistograms(serialized, grid), grid);
  const out = image.data.slice();
  for (const strip of [...strips].reverse()) {
    chunks(strip.top, strip.rows, (chunk, at, n) => {
      interpolateRows(chunk, { ...layout, height: n }, at, mode, grid, tables);
      out.set(chunk, at * rowLength);
    });
  }
  return out;
}

describe('CLAHE matches OpenCV createCLAHE(...).apply', () => {
  before(async () => {
    expected = await oracleClaheBatch(cases);
  });

  it('reflects like OpenCV BORDER_REFLECT_101, also past the far edge', () => {
    assert.deepEqual(
      [5, 6, 7, 8, 9, 10, 11, 12].map((p) => reflect101(p, 6)),
      [5, 4, 3, 2, 1, 0, 1, 2],
    );
    assert.equal(reflect101(9, 1), 0);
  });

  it('pads on both axes when either does not divide, as OpenCV does', () => {
    const grid = claheGrid({ width: 64, height: 41, channels: 1, depth: 8 }, 'luma', {
      clipLimit: 40,
      tilesX: 8,
      tilesY: 8,
    });
    assert.deepEqual(
      [grid.paddedWidth, grid.paddedHeight, grid.tileWidth, grid.tileHeight],
      [72, 48, 9, 6],
    );
    assert.equal(grid.clipCount, Math.max(Math.trunc((40 * 54) / 256), 1));
  });

  it('the whole image, byte for byte', () => {
    for (const [i, c] of cases.entries()) {
      const out = c.image.data.slice();
      claheImage(out, layoutOf(c.image), modeOf(c.op), c.clahe);
      assert.deepEqual(out, expected[i], c.name);
    }
  });

  it('1 to 17 bands of random chunks equal OpenCV: borders inside tile rows, one-row bands, more bands than tile rows', () => {
    for (const [i, c] of cases.entries()) {
      // 16-bit tiles hold 65,536 bins each: fewer band counts, the same borders inside tiles.
      const counts =
        c.image.depth === 8 ? [...Array(17).keys()].map((k) => k + 1) : [1, 2, 3, 7, 17];
      for (const bands of counts) {
        const out = claheByBands(c.image, modeOf(c.op), c.clahe, bands, i * 31 + bands);
        assert.deepEqual(out, expected[i], `${c.name}, ${bands} bands`);
      }
    }
  });

  it('the scalar row path gives every row the same bytes', () => {
    for (const [i, c] of cases.entries()) {
      const layout = layoutOf(c.image);
      const mode = modeOf(c.op);
      const grid = claheGrid(layout, mode, c.clahe);
      const tables = claheImage(c.image.data.slice(), layout, mode, c.clahe);
      const rowLength = c.image.width * c.image.channels;
      for (let y = 0; y < c.image.height; y++) {
        const row = c.image.data.slice(y * rowLength, (y + 1) * rowLength);
        claheRowScalar(row, { ...layout, height: 1 }, y, mode, grid, tables);
        assert.deepEqual(
          row,
          expected[i]!.subarray(y * rowLength, (y + 1) * rowLength),
          `${c.name}, row ${y}`,
        );
      }
    }
  });

  it('never touches alpha', () => {
    for (const c of cases.filter((k) => k.image.channels === 2 || k.image.channels === 4)) {
      const out = c.image.data.slice();
      claheImage(out, layoutOf(c.image), modeOf(c.op), c.clahe);
      for (let i = c.image.channels - 1; i < out.length; i += c.image.channels) {
        assert.equal(out[i], c.image.data[i]);
      }
    }
  });
});
