import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyLuts } from '../../src/imaging/equalize.js';
import { computeHistogram } from '../../src/imaging/histogram.js';
import { buildLuts } from '../../src/imaging/lut.js';
import { roundHalfEven } from '../../src/imaging/rounding.js';
import type { ColourMode, PixelLayout } from '../../src/imaging/types.js';
import { lowContrastImage, rng } from '../support/images.js';
import { oracleEqualize, type RawImage } from '../support/oracle.js';

/** Equalizes a whole image with the code under test (histogram → LUT → apply). */
function equalize(image: RawImage, mode: ColourMode = 'luma'): Uint8Array | Uint16Array {
  const layout: PixelLayout = { ...image };
  const out = image.data.slice();
  const hist = computeHistogram(out, layout, mode);
  applyLuts(out, layout, mode, buildLuts(hist, layout, mode));
  return out;
}

function grey8(width: number, height: number, values: number[]): RawImage {
  return { width, height, channels: 1, depth: 8, data: Uint8Array.from(values) };
}

describe('roundHalfEven', () => {
  it('rounds ties to the even neighbour and everything else to the nearest', () => {
    assert.deepEqual(
      [0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001, 0, 7].map(roundHalfEven),
      [0, 2, 2, 4, 2, 3, 0, 7],
    );
  });
});

describe('8-bit LUT matches OpenCV equalizeHist', () => {
  it('rounds exact ties half to even exactly like OpenCV', async () => {
    // One pixel of 0 (cdf_min = 1), one each of 1…254, 256 of 255: total − cdf_min = 510, so
    // scale = 255/510 = 0.5 exactly and every odd cumulative sum lands on a .5 tie.
    const values = [0, ...Array.from({ length: 510 }, (_, i) => (i < 254 ? 1 + i : 255))];
    const image = grey8(values.length, 1, values);
    assert.deepEqual(equalize(image), await oracleEqualize(image, 'grey'));
  });

  it('hand-computed ties: one pixel per value with total − cdf_min = 510', () => {
    const values = [0, ...Array.from({ length: 510 }, (_, i) => (i < 254 ? 1 + i : 255))];
    const hist = computeHistogram(
      Uint8Array.from(values),
      { width: 511, height: 1, channels: 1, depth: 8 },
      'luma',
    );
    const lut = buildLuts(hist, { width: 511, height: 1, channels: 1, depth: 8 }, 'luma');
    // cumulative sums above cdf_min are 1, 2, 3, 4, 5 for values 1…5; × 0.5 → 0.5, 1, 1.5, 2, 2.5
    assert.deepEqual(Array.from(lut.subarray(0, 6)), [0, 0, 1, 2, 2, 2]);
    assert.equal(lut[255], 255);
  });

  it('a constant image maps to itself', async () => {
    const image = grey8(7, 3, new Array(21).fill(77));
    const out = equalize(image);
    assert.ok(out.every((v) => v === 77));
    assert.deepEqual(out, await oracleEqualize(image, 'grey'));
  });

  it('a two-value image maps to 0 and 255', async () => {
    const image = grey8(4, 2, [40, 40, 40, 200, 200, 40, 40, 40]);
    const out = equalize(image);
    assert.deepEqual(Array.from(out), [0, 0, 0, 255, 255, 0, 0, 0]);
    assert.deepEqual(out, await oracleEqualize(image, 'grey'));
  });

  it('1×1, 1×N and N×1 images', async () => {
    for (const [w, h] of [
      [1, 1],
      [1, 97],
      [97, 1],
    ]) {
      const random = rng(w * 1000 + h);
      const image = grey8(
        w,
        h,
        Array.from({ length: w * h }, () => 60 + Math.floor(random() * 50)),
      );
      assert.deepEqual(equalize(image), await oracleEqualize(image, 'grey'), `${w}×${h}`);
    }
  });

  it('random low-contrast and full-range images of many sizes', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const random = rng(seed);
      const w = 1 + Math.floor(random() * 300);
      const h = 1 + Math.floor(random() * 200);
      const image =
        seed % 3 === 0
          ? grey8(
              w,
              h,
              Array.from({ length: w * h }, () => Math.floor(random() * 256)),
            )
          : lowContrastImage(w, h, 1, 8, seed);
      assert.deepEqual(equalize(image), await oracleEqualize(image, 'grey'), `seed ${seed}`);
    }
  });

  it('large counts where float32 arithmetic matters (2^24+ pixels)', async () => {
    // 4096×4200 = 17,203,200 pixels: cumulative sums exceed float32's exact integer range.
    const image = lowContrastImage(4096, 4200, 1, 8, 99);
    assert.deepEqual(equalize(image), await oracleEqualize(image, 'grey'));
  });
});

describe('16-bit LUT (float64, half to even)', () => {
  it('matches the reference over the full and a narrow range', async () => {
    for (const seed of [3, 4]) {
      const image = lowContrastImage(211, 157, 1, 16, seed);
      assert.deepEqual(equalize(image), await oracleEqualize(image, 'grey'), `seed ${seed}`);
    }
    const random = rng(5);
    const wide: RawImage = {
      width: 300,
      height: 300,
      channels: 1,
      depth: 16,
      data: Uint16Array.from({ length: 90000 }, () => Math.floor(random() * 65536)),
    };
    assert.deepEqual(equalize(wide), await oracleEqualize(wide, 'grey'));
  });

  it('keeps 16-bit precision, maps min to 0 and max to 65535, constant to itself', () => {
    const image: RawImage = {
      width: 3,
      height: 1,
      channels: 1,
      depth: 16,
      data: Uint16Array.from([1000, 1001, 1002]),
    };
    assert.deepEqual(Array.from(equalize(image)), [0, 32768, 65535]); // 1 × 65535/2 = 32767.5 → even
    const flat: RawImage = {
      width: 2,
      height: 2,
      channels: 1,
      depth: 16,
      data: new Uint16Array(4).fill(4321),
    };
    assert.deepEqual(Array.from(equalize(flat)), [4321, 4321, 4321, 4321]);
  });
});

describe('colour', () => {
  for (const depth of [8, 16] as const) {
    for (const channels of [3, 4] as const) {
      it(`${channels === 4 ? 'RGBA' : 'RGB'} ${depth}-bit, per-channel and luma, alpha untouched`, async () => {
        const image = lowContrastImage(123, 77, channels, depth, depth + channels);
        for (const mode of ['per-channel', 'luma'] as const) {
          const out = equalize(image, mode);
          assert.deepEqual(out, await oracleEqualize(image, mode), mode);
          if (channels === 4) {
            for (let i = 3; i < out.length; i += 4) assert.equal(out[i], image.data[i]);
          }
        }
      });
    }
  }

  it('luma mode keeps a grey pixel grey and equals grey equalization', async () => {
    const grey = lowContrastImage(64, 48, 1, 8, 8);
    const rgb: RawImage = { ...grey, channels: 3, data: new Uint8Array(grey.data.length * 3) };
    grey.data.forEach((v, i) => rgb.data.fill(v, i * 3, i * 3 + 3));
    const out = equalize(rgb, 'luma');
    const expected = await oracleEqualize(grey, 'grey');
    for (let i = 0; i < expected.length; i++) {
      assert.deepEqual(
        [out[3 * i], out[3 * i + 1], out[3 * i + 2]],
        [expected[i], expected[i], expected[i]],
      );
    }
  });

  it('grey+alpha equalizes grey only', async () => {
    const image = lowContrastImage(50, 40, 2, 8, 11);
    const out = equalize(image, 'per-channel');
    assert.deepEqual(out, await oracleEqualize(image, 'grey'));
  });
});
