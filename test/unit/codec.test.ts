import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeImage, encodeImage } from '../../src/imaging/codec.js';
import { probeImage } from '../../src/imaging/probe.js';
import {
  bytesOfImage,
  lowContrastImage,
  writeImage,
  writeMultiPageTiff,
} from '../support/images.js';
import { useTempDir } from '../support/paths.js';

const MAX = 268_402_689;
const tempDir = useTempDir('codec-');

describe('codec round trips keep format, size, depth, channels and compression', () => {
  const cases: {
    format: 'tiff' | 'png';
    compression?: 'none' | 'lzw' | 'deflate';
    tile?: boolean;
  }[] = [
    { format: 'tiff', compression: 'none' },
    { format: 'tiff', compression: 'lzw' },
    { format: 'tiff', compression: 'deflate' },
    { format: 'tiff', compression: 'lzw', tile: true },
    { format: 'png' },
  ];
  for (const c of cases) {
    for (const depth of [8, 16] as const) {
      for (const channels of [1, 2, 3, 4] as const) {
        const name = `${c.format}${c.compression ? '/' + c.compression : ''}${c.tile ? '/tiled' : ''} ${depth}-bit ${channels}ch`;
        it(name, async () => {
          const image = lowContrastImage(37, 29, channels, depth, depth * 10 + channels);
          const input = join(tempDir(), `in-${name.replace(/\W+/g, '_')}`);
          await writeImage(image, input, c.format, c);
          const info = await probeImage(input, { maxPixels: MAX });
          assert.equal(info.format, c.format);
          assert.deepEqual(info.layout, { width: 37, height: 29, channels, depth });
          if (c.format === 'tiff') {
            assert.equal(info.tiff?.compression, c.compression);
            assert.equal(info.tiff?.tiled, Boolean(c.tile));
          }
          const pixels = await decodeImage(input, info);
          assert.deepEqual(pixels, bytesOfImage(image));

          const output = `${input}-out`;
          await encodeImage(pixels, info, output);
          const outInfo = await probeImage(output, { maxPixels: MAX });
          assert.deepEqual({ ...outInfo, fileBytes: 0 }, { ...info, fileBytes: 0 });
          assert.deepEqual(await decodeImage(output, outInfo), bytesOfImage(image));
        });
      }
    }
  }

  for (const channels of [1, 3] as const) {
    it(`jpeg 8-bit ${channels}ch: decoded as ${channels} channels, re-encoded as JPEG of the same size`, async () => {
      const image = lowContrastImage(64, 48, channels, 8, channels);
      const input = join(tempDir(), `in-${channels}.jpg`);
      await writeImage(image, input, 'jpeg');
      const info = await probeImage(input, { maxPixels: MAX });
      assert.deepEqual(
        [info.format, info.layout],
        ['jpeg', { width: 64, height: 48, channels, depth: 8 }],
      );
      const pixels = await decodeImage(input, info);
      const output = join(tempDir(), `out-${channels}.jpg`);
      await encodeImage(pixels, info, output);
      const outInfo = await probeImage(output, { maxPixels: MAX });
      assert.deepEqual([outInfo.format, outInfo.layout], ['jpeg', info.layout]);
    });
  }
});

describe('multi-page TIFF', () => {
  it('reads the first page unless a page is asked for, and refuses a missing page', async () => {
    const pages = [0, 1, 2].map((p) => lowContrastImage(20, 10, 1, 8, 100 + p));
    const path = join(tempDir(), 'pages.tif');
    await writeMultiPageTiff(pages, path);
    const first = await probeImage(path, { maxPixels: MAX });
    assert.equal(first.pages, 3);
    assert.equal(first.page, 0);
    assert.deepEqual(first.layout, { width: 20, height: 10, channels: 1, depth: 8 });
    assert.deepEqual(await decodeImage(path, first), bytesOfImage(pages[0]));
    const third = await probeImage(path, { page: 2, maxPixels: MAX });
    assert.deepEqual(await decodeImage(path, third), bytesOfImage(pages[2]));
    await assert.rejects(probeImage(path, { page: 3, maxPixels: MAX }), {
      code: 'BAD_INPUT',
      message: 'The image has 3 pages; page 3 does not exist (the first page is 0).',
    });
  });
});

describe('bad input is refused with one sentence', () => {
  it('empty, not an image, unsupported format, pixel bomb, truncated', async () => {
    const empty = join(tempDir(), 'empty.tif');
    await writeFile(empty, '');
    await assert.rejects(probeImage(empty, { maxPixels: MAX }), {
      code: 'BAD_INPUT',
      message: /empty/,
    });

    const text = join(tempDir(), 'notes.tif');
    await writeFile(text, 'hello, this is not an image at all');
    await assert.rejects(probeImage(text, { maxPixels: MAX }), { code: 'UNSUPPORTED_FORMAT' });

    const gif = join(tempDir(), 'a.gif');
    await writeFile(gif, Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'));
    await assert.rejects(probeImage(gif, { maxPixels: MAX }), {
      code: 'UNSUPPORTED_FORMAT',
      message: /GIF/,
    });

    const big = lowContrastImage(100, 100, 1, 8, 1);
    const bomb = join(tempDir(), 'bomb.png');
    await writeImage(big, bomb, 'png');
    await assert.rejects(probeImage(bomb, { maxPixels: 9999 }), { code: 'TOO_MANY_PIXELS' });

    const cut = join(tempDir(), 'cut.png');
    await writeImage(lowContrastImage(300, 200, 3, 8, 3), cut, 'png');
    const png = await readFile(cut);
    await writeFile(cut, png.subarray(0, Math.floor(png.length / 2)));
    // The chunks show the cut before libpng is asked (it would only say "read error").
    await assert.rejects(probeImage(cut, { maxPixels: MAX }), {
      code: 'BAD_INPUT',
      message:
        /^The PNG file is truncated: its IDAT chunk ends at byte [\d,]+ but the file has [\d,]+ bytes\.$/,
    });
  });
});
