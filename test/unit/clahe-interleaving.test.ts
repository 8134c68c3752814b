import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { claheGrid, type ClaheParams } from '../../src/imaging/clahe/grid.js';
import { BandInterpolator } from '../../src/imaging/clahe/interpolate.js';
import { buildClaheTables } from '../../src/imaging/clahe/tables.js';
import { claheImage } from '../../src/imaging/clahe/whole-image.js';
import { claheKernels, KEPT_MEMORY_BYTES } from '../../src/imaging/clahe/wasm/clahe-kernels.js';
import { BandTileHistograms, sumBandHistograms } from '../../src/imaging/clahe/tile-histograms.js';
import { applyLuts } from '../../src/imaging/equalize.js';
import { computeHistogram } from '../../src/imaging/histogram.js';
import { planStrips } from '../../src/imaging/strips.js';
import type { ColourMode, Lut, PixelLayout, Samples } from '../../src/imaging/types.js';
import { lowContrastImage, rng } from '../support/images.js';
import { oracleClaheBatch, type RawImage } from '../support/oracle.js';

type Op = 'grey' | 'per-channel' | 'luma';

/** A CLAHE job: an image (shared by several jobs), how it is equalized, and OpenCV's result. */
interface Job {
  name: string;
  image: RawImage;
  op: Op;
  clahe: ClaheParams;
}

const images = {
  grey8: lowContrastImage(67, 53, 1, 8, 1),
  rgb8: lowContrastImage(41, 37, 3, 8, 2),
  // 1.09 MB per copy: a chunk of it spans more than one of the kernels' row pieces.
  wide8: lowContrastImage(700, 520, 3, 8, 3),
  grey16: lowContrastImage(45, 39, 1, 16, 4),
  greyAlpha16: lowContrastImage(33, 29, 2, 16, 5),
  tall16: lowContrastImage(500, 1100, 1, 16, 6),
  // Interleaved 8-bit samples go through a contiguous copy of each row; grids of other shapes
  // lay out the 8-bit tile-pair tables differently.
  greyAlpha8: lowContrastImage(47, 31, 2, 8, 8),
  rgba8: lowContrastImage(29, 23, 4, 8, 9),
  wideGrid8: lowContrastImage(300, 20, 1, 8, 10),
  column8: lowContrastImage(1, 40, 1, 8, 11),
  row8: lowContrastImage(40, 1, 1, 8, 12),
};

const JOBS: Job[] = [
  { name: 'grey8 8x8 clip 40', image: images.grey8, op: 'grey', clahe: p(40, 8, 8) },
  { name: 'grey8 3x5 clip 2', image: images.grey8, op: 'grey', clahe: p(2, 3, 5) },
  { name: 'grey8 8x8 clip 2', image: images.grey8, op: 'grey', clahe: p(2, 8, 8) },
  { name: 'grey8 1x1 clip 1', image: images.grey8, op: 'grey', clahe: p(1, 1, 1) },
  { name: 'rgb8 luma 8x8 clip 40', image: images.rgb8, op: 'luma', clahe: p(40, 8, 8) },
  { name: 'rgb8 per-channel 5x2 clip 3', image: images.rgb8, op: 'per-channel', clahe: p(3, 5, 2) },
  {
    name: 'wide8 per-channel 8x8 clip 40',
    image: images.wide8,
    op: 'per-channel',
    clahe: p(40, 8, 8),
  },
  { name: 'grey16 8x8 clip 40', image: images.grey16, op: 'grey', clahe: p(40, 8, 8) },
  { name: 'grey16 8x8 clip 2', image: images.grey16, op: 'grey', clahe: p(2, 8, 8) },
  { name: 'grey16 3x5 clip 1', image: images.grey16, op: 'grey', clahe: p(1, 3, 5) },
  { name: 'grey+alpha16 2x3 clip 2', image: images.greyAlpha16, op: 'grey', clahe: p(2, 2, 3) },
  { name: 'tall16 3x7 clip 40', image: images.tall16, op: 'grey', clahe: p(40, 3, 7) },
  { name: 'grey8 8x3 clip 40', image: images.grey8, op: 'grey', clahe: p(40, 8, 3) },
  { name: 'grey+alpha8 3x4 clip 2', image: images.greyAlpha8, op: 'grey', clahe: p(2, 3, 4) },
  { name: 'grey+alpha8 3x4 clip 40', image: images.greyAlpha8, op: 'grey', clahe: p(40, 3, 4) },
  {
    name: 'rgba8 per-channel 4x3 clip 2',
    image: images.rgba8,
    op: 'per-channel',
    clahe: p(2, 4, 3),
  },
  { name: 'rgba8 luma 4x3 clip 2', image: images.rgba8, op: 'luma', clahe: p(2, 4, 3) },
  { name: 'wide-grid8 64x2 clip 3', image: images.wideGrid8, op: 'grey', clahe: p(3, 64, 2) },
  { name: 'column8 1x5 clip 2', image: images.column8, op: 'grey', clahe: p(2, 1, 5) },
  { name: 'row8 5x1 clip 2', image: images.row8, op: 'grey', clahe: p(2, 5, 1) },
];

function p(clipLimit: number, tilesX: number, tilesY: number): ClaheParams {
  return { clipLimit, tilesX, tilesY };
}

function layoutOf(image: RawImage): PixelLayout {
  const { width, height, channels, depth } = image;
  return { width, height, channels, depth };
}

function modeOf(op: Op): ColourMode {
  return op === 'per-channel' ? 'per-channel' : 'luma';
}

/**
 * One run of a job as the cluster does it, split into steps another run's steps can come
 * between: each band's histograms chunk by chunk, the tables, each band's equalization chunk by
 * chunk (chunks are copies, like a reused read buffer). A rerun equalizes again from the tables
 * object of an earlier run, as a retried equalize task does.
 */
function* jobRun(job: Job, random: () => number, out: Samples, reuse?: Lut): Generator<void, Lut> {
  const layout = layoutOf(job.image);
  const mode = modeOf(job.op);
  const grid = claheGrid(layout, mode, job.clahe);
  const rowLength = job.image.width * job.image.channels;
  const strips = planStrips(job.image.height, 1 + Math.floor(random() * 5));
  const chunkRows = (left: number) =>
    random() < 0.2 ? left : Math.min(left, 1 + Math.floor(random() * 6));
  let tables = reuse;
  if (!tables) {
    const bands: Uint32Array[] = [];
    for (const strip of strips) {
      const band = new BandTileHistograms(grid);
      for (let at = strip.top, n = 0; at < strip.top + strip.rows; at += n) {
        n = chunkRows(strip.top + strip.rows - at);
        band.addRows(
          job.image.data.slice(at * rowLength, (at + n) * rowLength),
          { ...layout, height: n },
          at,
          mode,
        );
        yield;
      }
      bands.push(band.serialize());
    }
    tables = buildClaheTables(sumBandHistograms(bands, grid), grid);
    yield;
  }
  for (const strip of strips) {
    const interpolator = new BandInterpolator(grid, mode, tables);
    for (let at = strip.top, n = 0; at < strip.top + strip.rows; at += n) {
      n = chunkRows(strip.top + strip.rows - at);
      const chunk = job.image.data.slice(at * rowLength, (at + n) * rowLength);
      interpolator.rows(chunk, { ...layout, height: n }, at);
      out.set(chunk, at * rowLength);
      yield;
    }
  }
  return tables;
}

/** Global equalization of a grey image with a random LUT, checked against plain loops. */
function globalWork(image: RawImage, random: () => number, label: string): void {
  const layout = layoutOf(image);
  const bins = image.depth === 8 ? 256 : 65536;
  const hist = computeHistogram(image.data, layout, 'luma');
  const want = new Uint32Array(bins);
  for (let i = 0; i < image.data.length; i += image.channels) want[image.data[i]!]++;
  assert.deepEqual(hist.subarray(0, bins), want, `${label}: global histogram`);
  const lut = image.depth === 8 ? new Uint8Array(256) : new Uint16Array(65536);
  for (let v = 0; v < bins; v++) lut[v] = Math.floor(random() * bins);
  const mapped = image.data.slice();
  applyLuts(mapped, layout, 'luma', lut);
  for (let i = 0; i < mapped.length; i++) {
    const grey = i % image.channels === 0;
    if (mapped[i] !== (grey ? lut[image.data[i]!] : image.data[i])) {
      assert.fail(`${label}: global LUT at sample ${i}`);
    }
  }
}

let expected: (Uint8Array | Uint16Array)[] = [];

/** 160 tile columns at 16 bits: two float32 tile rows of them take 80 MiB, more than is kept. */
const WIDE_GRID: Job = {
  name: 'wide16 160x1 clip 2',
  image: lowContrastImage(160, 3, 1, 16, 7),
  op: 'grey',
  clahe: p(2, 160, 1),
};

describe('CLAHE kernels interleaved on one thread', () => {
  before(async () => {
    expected = await oracleClaheBatch([...JOBS, WIDE_GRID]);
  });

  it('chunks of two jobs of one grid at the same rows, in turn, each equal OpenCV', () => {
    const random = rng(7);
    const tables = JOBS.map((job, i) => {
      const steps = jobRun(job, random, job.image.data.slice());
      for (let n = 0; n < 1_000_000; n++) {
        const next = steps.next();
        if (next.done) return next.value;
      }
      throw new Error(`job ${i} did not finish`);
    });
    const sameGrid = (a: Job, b: Job) =>
      a.image.width === b.image.width &&
      a.image.height === b.image.height &&
      a.image.depth === b.image.depth &&
      modeOf(a.op) === modeOf(b.op) &&
      a.clahe.tilesX === b.clahe.tilesX &&
      a.clahe.tilesY === b.clahe.tilesY;
    let pairs = 0;
    for (const [ai, a] of JOBS.entries()) {
      for (const [bi, b] of JOBS.entries()) {
        if (ai === bi || !sameGrid(a, b)) continue;
        pairs++;
        const layout = layoutOf(a.image);
        const mode = modeOf(a.op);
        const grid = claheGrid(layout, mode, a.clahe);
        const rowLength = a.image.width * a.image.channels;
        // A, B, then A again over the same rows: the case a cache keyed by position alone misses.
        for (let k = 0; k < 6; k++) {
          const top = Math.floor(random() * a.image.height);
          const n = Math.min(a.image.height - top, 1 + Math.floor(random() * 8));
          for (const [i, job] of [ai, bi, ai].map((j) => [j, JOBS[j]!] as const)) {
            const chunk = job.image.data.slice(top * rowLength, (top + n) * rowLength);
            new BandInterpolator(grid, mode, tables[i]!).rows(chunk, { ...layout, height: n }, top);
            const want = expected[i]!.subarray(top * rowLength, (top + n) * rowLength);
            assert.deepEqual(
              chunk,
              want,
              `${job.name} after ${JOBS[ai === i ? bi : ai]!.name}, rows ${top}+${n}`,
            );
          }
        }
      }
    }
    assert.ok(pairs >= 4);
  });

  it('a seeded random interleaving of CLAHE 8/16-bit runs, reruns from kept tables and global work equals OpenCV', () => {
    const seed = 20261201;
    const random = rng(seed);
    interface Running {
      job: number;
      steps: Generator<void, Lut>;
      out: Samples;
      rerun: boolean;
    }
    const running: Running[] = [];
    const kept = new Map<number, Lut>();
    const start = (job: number, reuse?: Lut) => {
      const out = JOBS[job]!.image.data.slice();
      running.push({ job, steps: jobRun(JOBS[job]!, random, out, reuse), out, rerun: !!reuse });
    };
    let runs = 0;
    let checked = 0;
    // Bounded: at most 60 runs are started, each of a finite number of steps.
    for (let step = 0; step < 200_000 && (runs < 60 || running.length > 0); step++) {
      if (runs < 60 && (running.length < 3 || random() < 0.02)) {
        const job = Math.floor(random() * JOBS.length);
        const reuse = random() < 0.3 ? kept.get(job) : undefined;
        start(job, reuse);
        runs++;
        continue;
      }
      if (random() < 0.05) {
        const image = [images.grey8, images.grey16, images.greyAlpha16, images.greyAlpha8][
          Math.floor(random() * 4)
        ]!;
        globalWork(image, random, `seed ${seed} step ${step}`);
        continue;
      }
      const pick = Math.floor(random() * running.length);
      const run = running[pick]!;
      const next = run.steps.next();
      if (!next.done) continue;
      running.splice(pick, 1);
      kept.set(run.job, next.value);
      const name = `${JOBS[run.job]!.name}${run.rerun ? ' (rerun from kept tables)' : ''}`;
      assert.deepEqual(run.out, expected[run.job], `seed ${seed} step ${step}: ${name}`);
      checked++;
    }
    assert.equal(running.length, 0);
    assert.equal(checked, 60);
  });

  it('a job that grows the memory past what a thread keeps gives it back to the next smaller one, both exact', () => {
    const wide = WIDE_GRID.image.data.slice();
    claheImage(wide, layoutOf(WIDE_GRID.image), 'luma', WIDE_GRID.clahe);
    assert.deepEqual(wide, expected[JOBS.length], WIDE_GRID.name);
    // Infinity: asks for the instance as it is, without the replacement a smaller call triggers.
    assert.ok(claheKernels(Infinity).memoryBytes > KEPT_MEMORY_BYTES);
    const small = JOBS[0]!;
    const out = small.image.data.slice();
    claheImage(out, layoutOf(small.image), modeOf(small.op), small.clahe);
    assert.deepEqual(out, expected[0], `${small.name} after ${WIDE_GRID.name}`);
    assert.ok(claheKernels(Infinity).memoryBytes <= KEPT_MEMORY_BYTES);
  });
});
