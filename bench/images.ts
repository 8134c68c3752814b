import { access } from 'node:fs/promises';
import sharp from 'sharp';

export interface BenchImage {
  name: string;
  width: number;
  height: number;
  channels: 1 | 3;
  depth: 8 | 16;
  compression: 'none' | 'lzw';
}

/**
 * Writes a low-contrast synthetic TIFF (a smooth gradient plus noise squeezed into a quarter of
 * the range) once, and reuses it on later runs.
 */
export async function ensureImage(dir: string, img: BenchImage): Promise<string> {
  const path = `${dir}/${img.name}.tif`;
  if (
    await access(path).then(
      () => true,
      () => false,
    )
  )
    return path;
  const { width, height, channels, depth } = img;
  const n = width * height * channels;
  const data = depth === 8 ? new Uint8Array(n) : new Uint16Array(n);
  const max = depth === 8 ? 255 : 65535;
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let x = 0; x < width * channels; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const gradient = ((x / channels + y) / (width + height)) * 0.15;
      data[row + x] = Math.floor(max * (0.35 + gradient + ((seed >>> 16) / 65536) * 0.1));
    }
  }
  const cs = channels === 1 ? (depth === 16 ? 'grey16' : 'b-w') : depth === 16 ? 'rgb16' : 'srgb';
  await sharp(data, { raw: { width, height, channels }, limitInputPixels: false })
    .toColourspace(cs)
    .tiff({ compression: img.compression })
    .toFile(path);
  return path;
}
