import { seededRandom } from '../../src/common/random.js';
import type { RawImage } from './oracle.js';

/** Seeded randomness for fixtures: failures reproduce from the seed. */
export const rng = seededRandom;

/**
 * A low-contrast random image: values crowd into [lo, lo + span) like an under-exposed photo,
 * with a smooth gradient so neighbouring strips differ. Alpha, when present, is random.
 */
export function lowContrastImage(
  width: number,
  height: number,
  channels: RawImage['channels'],
  depth: RawImage['depth'],
  seed: number,
): RawImage {
  const random = rng(seed);
  const max = depth === 8 ? 255 : 65535;
  const lo = Math.floor(max * 0.3);
  const span = Math.max(2, Math.floor(max * 0.25));
  const data =
    depth === 8
      ? new Uint8Array(width * height * channels)
      : new Uint16Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = lo + ((x + y) / (width + height)) * span * 0.5;
      for (let c = 0; c < channels; c++) {
        const i = (y * width + x) * channels + c;
        const alpha = c === channels - 1 && (channels === 2 || channels === 4);
        data[i] = alpha
          ? Math.floor(random() * (max + 1))
          : Math.floor(base + random() * span * 0.5 + c * 3);
      }
    }
  }
  return { width, height, channels, depth, data };
}

export function bytesOfImage(image: RawImage): Uint8Array {
  const d = image.data;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export type TestFormat = 'tiff' | 'png' | 'jpeg';

/** Encodes a raw test image with sharp, pinning the colourspace so nothing is converted. */
export async function writeImage(
  image: RawImage,
  path: string,
  format: TestFormat,
  options: { compression?: 'none' | 'lzw' | 'deflate'; tile?: boolean; tileSize?: number } = {},
): Promise<void> {
  const { default: sharp } = await import('sharp');
  const s = sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels },
  }).toColourspace(colourspaceFor(image));
  if (format === 'tiff') {
    const size = options.tileSize;
    s.tiff({
      compression: options.compression ?? 'none',
      tile: options.tile ?? size !== undefined,
      ...(size ? { tileWidth: size, tileHeight: size } : {}),
    });
  } else if (format === 'png') s.png();
  else s.jpeg({ quality: 90 });
  await s.toFile(path);
}

/** A multi-page TIFF whose page p holds the given raw grey images, in order. */
export async function writeMultiPageTiff(
  pages: RawImage[],
  path: string,
  compression: 'none' | 'lzw' = 'lzw',
): Promise<void> {
  const { default: sharp } = await import('sharp');
  const encoded = await Promise.all(
    pages.map((p) =>
      sharp(p.data, { raw: { width: p.width, height: p.height, channels: p.channels } })
        .toColourspace('b-w')
        .png()
        .toBuffer(),
    ),
  );
  await sharp(encoded, { join: { animated: true } })
    .extractChannel(0) // joining as frames makes RGBA; keep the grey values
    .toColourspace('b-w')
    .tiff({ compression })
    .toFile(path);
}

/** A small solid-colour RGB PNG (a valid image that is cheap to equalize). */
export async function solidPng(seed: number): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  return sharp({
    create: { width: 96, height: 64, channels: 3, background: { r: seed, g: 80, b: 70 } },
  })
    .png()
    .toBuffer();
}

/** The sharp colourspace that keeps a test image's channels and depth exactly. */
export function colourspaceFor(image: Pick<RawImage, 'channels' | 'depth'>): string {
  if (image.channels <= 2) return image.depth === 16 ? 'grey16' : 'b-w';
  return image.depth === 16 ? 'rgb16' : 'srgb';
}

/** An encoded image (a path or its bytes) decoded to raw samples shaped like `like`. */
export async function decodeRaw(
  input: string | Uint8Array,
  like: RawImage,
): Promise<Uint8Array | Uint16Array> {
  const { default: sharp } = await import('sharp');
  const data = await sharp(input)
    .toColourspace(colourspaceFor(like))
    .raw({ depth: like.depth === 16 ? 'ushort' : 'uchar' })
    .toBuffer();
  const copy = new Uint8Array(data).buffer;
  return like.depth === 16 ? new Uint16Array(copy) : new Uint8Array(copy);
}
