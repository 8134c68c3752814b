import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { seededRandom } from '../../common/random.js';
import { referenceEqualize, type ReferenceImage } from './reference.js';

/** One kind of job the soak submits, with the exact result it must come back with. */
export interface SoakJob {
  label: string;
  name: string;
  bytes: Buffer;
  fields: Record<string, string>;
  /** How to read the result back: its samples must equal `expected`. */
  read: { channels: 1 | 2 | 3 | 4; depth: 8 | 16 };
  expected: Uint8Array;
}

/**
 * The soak's job mix, as real users send it: a large 8-bit grey TIFF, a 16-bit grey TIFF, an
 * RGB TIFF (luma), an odd-sized LZW TIFF, the second page of a two-page TIFF and an RGBA PNG
 * equalized per channel. `megapixels` sizes the large one; the others scale with it.
 */
export async function makeJobMix(dir: string, megapixels: number): Promise<SoakJob[]> {
  const side = Math.max(64, Math.round(Math.sqrt(megapixels * 1e6)));
  const quarter = Math.max(32, Math.round(side / 2));
  const jobs: Promise<SoakJob>[] = [
    tiffJob(dir, 'big grey 8-bit TIFF', 'grey8.tif', image(side, side, 1, 8, 1), {}),
    tiffJob(dir, 'grey 16-bit TIFF', 'grey16.tif', image(quarter, quarter, 1, 16, 2), {}),
    tiffJob(dir, 'RGB TIFF (luma)', 'rgb.tif', image(quarter, quarter, 3, 8, 3), {}),
    tiffJob(dir, 'odd-sized LZW TIFF', 'lzw.tif', image(quarter + 3, side - 1, 1, 8, 4), {
      compression: 'lzw',
    }),
    // Pages of one size: joining frames of different sizes pads them to the largest.
    pagesJob(dir, image(quarter, quarter + 5, 1, 8, 5), image(quarter, quarter + 5, 1, 8, 6)),
    pngJob(image(quarter - 1, quarter + 1, 4, 8, 7)),
  ];
  return Promise.all(jobs);
}

/** A low-contrast image: a gradient over a narrow band with seeded noise, per channel. */
function image(
  width: number,
  height: number,
  channels: ReferenceImage['channels'],
  depth: ReferenceImage['depth'],
  seed: number,
): ReferenceImage {
  const random = seededRandom(seed);
  const max = depth === 8 ? 255 : 65535;
  const data =
    depth === 8
      ? new Uint8Array(width * height * channels)
      : new Uint16Array(width * height * channels);
  let i = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const ramp = (x + 2 * y + c * 37) / (width + 2 * height + 111);
        const alpha = channels % 2 === 0 && c === channels - 1;
        data[i++] = alpha
          ? Math.floor(random() * (max + 1))
          : Math.floor(max * (0.3 + 0.25 * ramp + 0.05 * random()));
      }
    }
  }
  return { width, height, channels, depth, data };
}

function colourspace(img: Pick<ReferenceImage, 'channels' | 'depth'>): string {
  if (img.channels <= 2) return img.depth === 16 ? 'grey16' : 'b-w';
  return img.depth === 16 ? 'rgb16' : 'srgb';
}

function encoder(img: ReferenceImage) {
  return sharp(img.data, {
    raw: { width: img.width, height: img.height, channels: img.channels },
  }).toColourspace(colourspace(img));
}

function expectedOf(img: ReferenceImage, mode: 'luma' | 'per-channel'): Uint8Array {
  const out = referenceEqualize(img, mode);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

async function tiffJob(
  dir: string,
  label: string,
  name: string,
  img: ReferenceImage,
  options: { compression?: 'lzw' },
): Promise<SoakJob> {
  const path = join(dir, name);
  await encoder(img)
    .tiff({ compression: options.compression ?? 'none' })
    .toFile(path);
  return {
    label,
    name,
    bytes: await readFile(path),
    fields: {},
    read: img,
    expected: expectedOf(img, 'luma'),
  };
}

async function pagesJob(
  dir: string,
  first: ReferenceImage,
  second: ReferenceImage,
): Promise<SoakJob> {
  const pages = await Promise.all([first, second].map((p) => encoder(p).png().toBuffer()));
  const path = join(dir, 'pages.tif');
  await sharp(pages, { join: { animated: true } })
    .extractChannel(0)
    .toColourspace('b-w')
    .tiff({ compression: 'lzw' })
    .toFile(path);
  return {
    label: 'page 2 of a two-page TIFF',
    name: 'pages.tif',
    bytes: await readFile(path),
    fields: { page: '1' },
    read: second,
    expected: expectedOf(second, 'luma'),
  };
}

async function pngJob(img: ReferenceImage): Promise<SoakJob> {
  return {
    label: 'RGBA PNG (per channel)',
    name: 'rgba.png',
    bytes: await encoder(img).png().toBuffer(),
    fields: { mode: 'per-channel' },
    read: img,
    expected: expectedOf(img, 'per-channel'),
  };
}

/** The samples of a result, decoded as the job's input was laid out. */
export async function resultSamples(bytes: Buffer, job: SoakJob): Promise<Uint8Array> {
  const { data } = await sharp(bytes)
    .toColourspace(colourspace(job.read))
    .raw({ depth: job.read.depth === 16 ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
