/**
 * An independent reference for the soak: global histogram equalization written again here from
 * the documented formulas, one sample at a time, sharing no code with imaging/ (no kernels, no
 * tables, no caches), so a fault in the product cannot agree with itself.
 *
 * - 8-bit: OpenCV's equalizeHist — float32 scale 255 / (total − count of the darkest value),
 *   float32 product with the running sum, rounded half to even; a constant plane maps to itself.
 * - 16-bit: the same with 65535 in float64.
 * - Colour: `luma` equalizes BT.601 luma (16-bit fixed point 19595, 38470, 7471) and adds the
 *   luma change to every channel, clamped; `per-channel` equalizes R, G and B alone. Alpha stays.
 */
export interface ReferenceImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  depth: 8 | 16;
  data: Uint8Array | Uint16Array;
}

export function referenceEqualize(
  image: ReferenceImage,
  mode: 'luma' | 'per-channel',
): Uint8Array | Uint16Array {
  const { channels, depth, data } = image;
  const out = data.slice();
  const max = depth === 8 ? 255 : 65535;
  const pixels = image.width * image.height;
  if (channels <= 2) {
    const lut = planeLut(data, channels, 0, pixels, depth);
    for (let i = 0; i < data.length; i += channels) out[i] = lut[data[i]!]!;
  } else if (mode === 'per-channel') {
    for (let c = 0; c < 3; c++) {
      const lut = planeLut(data, channels, c, pixels, depth);
      for (let i = c; i < data.length; i += channels) out[i] = lut[data[i]!]!;
    }
  } else {
    const luma = new Float64Array(pixels);
    for (let p = 0, i = 0; p < pixels; p++, i += channels) {
      luma[p] = Math.floor(
        (19595 * data[i]! + 38470 * data[i + 1]! + 7471 * data[i + 2]! + 32768) / 65536,
      );
    }
    const lut = planeLut(luma, 1, 0, pixels, depth);
    for (let p = 0, i = 0; p < pixels; p++, i += channels) {
      const shift = lut[luma[p]!]! - luma[p]!;
      for (let c = 0; c < 3; c++) out[i + c] = Math.min(max, Math.max(0, data[i + c]! + shift));
    }
  }
  return out;
}

type Plane = ArrayLike<number>;

function planeLut(plane: Plane, stride: number, offset: number, pixels: number, depth: 8 | 16) {
  const bins = depth === 8 ? 256 : 65536;
  const hist = new Float64Array(bins);
  for (let i = offset; i < plane.length; i += stride) hist[plane[i]!]!++;
  const lut = new Float64Array(bins);
  let first = 0;
  while (first < bins && hist[first] === 0) first++;
  if (first === bins || hist[first] === pixels) {
    for (let v = 0; v < bins; v++) lut[v] = v;
    return lut;
  }
  if (depth === 8) {
    const scale = Math.fround(255 / Math.fround(pixels - hist[first]!));
    let sum = 0;
    for (let v = first + 1; v < bins; v++) {
      sum += hist[v]!;
      lut[v] = Math.min(255, roundHalfEven(Math.fround(Math.fround(sum) * scale)));
    }
  } else {
    const scale = 65535 / (pixels - hist[first]!);
    let sum = 0;
    for (let v = first + 1; v < bins; v++) {
      sum += hist[v]!;
      lut[v] = Math.min(65535, roundHalfEven(sum * scale));
    }
  }
  return lut;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
