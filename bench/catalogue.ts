// The images each bench section runs, generated once under bench-results/images.
import type { BenchImage } from './images.js';

export const CLI_IMAGES: BenchImage[] = [
  { name: 'grey8-16mp', width: 4000, height: 4000, channels: 1, depth: 8 },
  { name: 'grey8-64mp', width: 8000, height: 8000, channels: 1, depth: 8 },
  { name: 'grey8-144mp', width: 12000, height: 12000, channels: 1, depth: 8 },
  {
    name: 'grey8-64mp-lzw',
    width: 8000,
    height: 8000,
    channels: 1,
    depth: 8,
    tiff: { compression: 'lzw' },
  },
  { name: 'grey16-16mp', width: 4000, height: 4000, channels: 1, depth: 16 },
  { name: 'rgb8-24mp', width: 6000, height: 4000, channels: 3, depth: 8 },
];

/** A job's fixed cost: the smallest image there is (one task per phase). */
export const FIXED_COST_IMAGE: BenchImage = {
  name: 'grey8-1px',
  width: 1,
  height: 1,
  channels: 1,
  depth: 8,
};

/** Set: only the side-by-side images whose names contain one of these (comma-separated). */
export const SIDE_IMAGES = process.env.BENCH_SIDE_IMAGES?.split(',');

/** Each through 5 pods and through one OpenCV process on the same file: add entries here. */
export const SIDE_BY_SIDE: BenchImage[] = [
  { name: 'grey8-64mp', width: 8000, height: 8000, channels: 1, depth: 8 },
  {
    name: 'grey8-64mp-lzw',
    width: 8000,
    height: 8000,
    channels: 1,
    depth: 8,
    tiff: { compression: 'lzw', predictor: 'horizontal' },
  },
  {
    name: 'grey8-64mp-deflate-tiles',
    width: 8000,
    height: 8000,
    channels: 1,
    depth: 8,
    tiff: { compression: 'deflate', tile: true, tileWidth: 256, tileHeight: 256 },
  },
  {
    name: 'grey16-32mp-lzw',
    width: 8000,
    height: 4000,
    channels: 1,
    depth: 16,
    tiff: { compression: 'lzw' },
  },
];

/** The tiles the deflate section encodes come from the side-by-side deflate image. */
export const DEFLATE_IMAGE = SIDE_BY_SIDE.find((image) => image.tiff?.compression === 'deflate')!;

/** CLAHE 8×8, clip 40, through 5 pods beside OpenCV's apply on the same image. */
export const CLAHE_IMAGE: BenchImage = {
  name: 'grey8-64mp',
  width: 8000,
  height: 8000,
  channels: 1,
  depth: 8,
};
