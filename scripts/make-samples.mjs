// Writes the sample images in samples/: synthetic, under-exposed scenes made here (so they
// carry no one else's copyright), each under 1 MB, in the formats and depths the project
// reads. Deterministic: the same bytes on every run (the project's own seeded generator).
// Run after a build: npm run build && node scripts/make-samples.mjs
import { Buffer } from 'node:buffer';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath, URL } from 'node:url';
import sharp from 'sharp';
import { seededRandom } from '../dist/src/common/random.js';

const OUT = fileURLToPath(new URL('../samples/', import.meta.url));

/**
 * A landscape at dusk in [0, 1]: a sky gradient, a sun, two ranges of hills and a lake, plus
 * fine noise. Returned per pixel as (brightness, warmth) so colour images can tint it.
 */
function scene(width, height, seed) {
  const noise = seededRandom(seed);
  const out = new Float64Array(width * height * 2);
  for (let y = 0; y < height; y++) {
    const v = y / height;
    for (let x = 0; x < width; x++) {
      const u = x / width;
      let b = 0.55 + 0.35 * (1 - v); // sky: brighter towards the top
      let warm = 1 - v;
      const sun = Math.hypot(u - 0.7, v - 0.32);
      if (sun < 0.06) b = 0.98;
      else b += 0.25 * Math.exp(-sun * 8);
      const far = 0.52 + 0.06 * Math.sin(u * 9 + 1) + 0.03 * Math.sin(u * 23);
      const near = 0.66 + 0.08 * Math.sin(u * 5 + 2) + 0.02 * Math.sin(u * 41);
      if (v > far) {
        b = 0.4 + 0.1 * Math.sin(u * 60 + v * 40);
        warm = 0.3;
      }
      if (v > near) {
        b = 0.2 + 0.15 * (v - near) + 0.05 * Math.sin(u * 120);
        warm = 0.1;
      }
      if (v > 0.86) {
        b = 0.35 + 0.1 * Math.sin(v * 300 + u * 10); // lake ripples
        warm = 0.5;
      }
      const i = (y * width + x) * 2;
      out[i] = Math.min(1, Math.max(0, b + (noise() - 0.5) * 0.05));
      out[i + 1] = warm;
    }
  }
  return out;
}

/** Squeezes brightness into [lo, lo + span] of the sample range: a flat, hazy picture. */
function lowContrast(width, height, { channels, depth, lo, span, seed }) {
  const max = depth === 16 ? 65535 : 255;
  const s = scene(width, height, seed);
  const data =
    depth === 16
      ? new Uint16Array(width * height * channels)
      : Buffer.alloc(width * height * channels);
  for (let p = 0; p < width * height; p++) {
    const b = s[2 * p];
    const warm = s[2 * p + 1];
    const tint = channels === 3 ? [0.04 * warm, 0.01, -0.04 * warm] : [0];
    for (let c = 0; c < channels; c++) {
      data[p * channels + c] = Math.round(
        max * (lo + span * Math.min(1, Math.max(0, b + tint[c]))),
      );
    }
  }
  return sharp(data, { raw: { width, height, channels } }).toColourspace(
    channels === 1 ? (depth === 16 ? 'grey16' : 'b-w') : depth === 16 ? 'rgb16' : 'srgb',
  );
}

await mkdir(OUT, { recursive: true });
// Uncompressed grey TIFF: the raw path (read and written in place, no decode).
await lowContrast(800, 600, { channels: 1, depth: 8, lo: 0.35, span: 0.22, seed: 1 })
  .tiff({ compression: 'none' })
  .toFile(`${OUT}dusk-grey.tif`);
// 16-bit grey TIFF, LZW with a predictor: the codec path at 16 bits.
await lowContrast(512, 384, { channels: 1, depth: 16, lo: 0.42, span: 0.12, seed: 2 })
  .tiff({ compression: 'lzw', predictor: 'horizontal' })
  .toFile(`${OUT}fog-grey16.tif`);
// Colour PNG: luma equalization keeps its tint.
await lowContrast(640, 480, { channels: 3, depth: 8, lo: 0.25, span: 0.3, seed: 3 })
  .png({ compressionLevel: 9 })
  .toFile(`${OUT}haze-rgb.png`);
// Colour JPEG.
await lowContrast(720, 480, { channels: 3, depth: 8, lo: 0.3, span: 0.25, seed: 4 })
  .jpeg({ quality: 88 })
  .toFile(`${OUT}haze-rgb.jpg`);
