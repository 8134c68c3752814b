import { access, rename } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp, { type TiffOptions } from 'sharp';
import { seededRandom } from '../src/common/random.js';

/**
 * One image the bench runs on, generated once under bench-results/images and reused. Images
 * of another kind (other compressions, tiles, BigTIFF) are added to the lists in main.ts as one
 * more entry: `tiff` for sharp's TIFF options, or a `generate` of their own.
 */
export interface BenchImage {
  name: string;
  width: number;
  height: number;
  channels: 1 | 3;
  depth: 8 | 16;
  /** How the file is stored (sharp's TIFF options); default uncompressed strips. */
  tiff?: TiffOptions;
  /** Writes the image to `path`; default: a sample scene scaled up with noise (sceneImage). */
  generate?: (image: BenchImage, path: string) => Promise<void>;
}

const SAMPLES = fileURLToPath(new URL('../../samples/', import.meta.url));

/** The scene each kind of image is scaled up from (low-contrast scenes from samples/). */
const SCENE: Record<string, string> = {
  'grey-8': 'dusk-grey.tif',
  'grey-16': 'fog-grey16.tif',
  'rgb-8': 'haze-rgb.png',
  'rgb-16': 'haze-rgb.png',
};

/** Sensor-like noise, in levels of the image's depth (triangular, about ±2 % of the range). */
const NOISE = { 8: 5, 16: 1300 } as const;

/** The image's file (generated on first use; a half-written file never survives a crash). */
export async function ensureImage(dir: string, image: BenchImage): Promise<string> {
  // The suffix names the generator: files of an older generator are not reused.
  const path = `${dir}/${image.name}.scene.tif`;
  const present = await access(path).then(
    () => true,
    () => false,
  );
  if (present) return path;
  const tmp = `${path}.${process.pid}.tmp`;
  await (image.generate ?? sceneImage)(image, tmp);
  await rename(tmp, path);
  return path;
}

/**
 * A sample scene from samples/ (hills, sky, a lake: structure at every scale, values in a
 * narrow band) resized to the image's size, plus seeded per-pixel noise, so the histogram is
 * not a comb and compressors see what they see in a real photograph or X-ray — not a smooth
 * gradient that compresses unrealistically well.
 */
export async function sceneImage(image: BenchImage, path: string): Promise<void> {
  const { width, height, channels, depth } = image;
  const scene = SCENE[`${channels === 1 ? 'grey' : 'rgb'}-${depth}`]!;
  let pipeline = sharp(`${SAMPLES}${scene}`).resize(width, height, {
    fit: 'fill',
    kernel: 'cubic',
  });
  pipeline = channels === 1 ? pipeline.extractChannel(0) : pipeline.removeAlpha();
  if (depth === 16) pipeline = pipeline.toColourspace(channels === 1 ? 'grey16' : 'rgb16');
  const { data } = await pipeline
    .raw({ depth: depth === 16 ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const samples =
    depth === 8
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
  addNoise(samples, NOISE[depth], depth === 8 ? 255 : 65535, 0x5eed + width + height);
  const colourspace =
    channels === 1 ? (depth === 16 ? 'grey16' : 'b-w') : depth === 16 ? 'rgb16' : 'srgb';
  await sharp(samples, { raw: { width, height, channels }, limitInputPixels: false })
    .toColourspace(colourspace)
    .tiff({ compression: 'none', ...image.tiff })
    .toFile(path);
}

function addNoise(samples: Uint8Array | Uint16Array, amplitude: number, max: number, seed: number) {
  const random = seededRandom(seed);
  for (let i = 0; i < samples.length; i++) {
    const noisy = samples[i]! + Math.round((random() + random() - 1) * amplitude);
    samples[i] = noisy < 0 ? 0 : noisy > max ? max : noisy;
  }
}
