import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ClaheBand } from '../../src/imaging/clahe/grid.js';
import { planPreview } from '../../src/imaging/preview.js';
import { planStrips } from '../../src/imaging/strips.js';
import { rowBytes } from '../../src/imaging/types.js';
import { ImagePool } from '../../src/pool/image-pool.js';
import { sha256 } from '../../src/pool/strip-io.js';
import { bytesOfImage, lowContrastImage } from '../support/images.js';
import { oracleClaheBatch, oracleEqualize } from '../support/oracle.js';

describe('CLAHE through the image pool', () => {
  it('bands larger than a read chunk, interleaved with global work on one thread, equal OpenCV; the check catches a wrong strip', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clahe-pool-'));
    const pool = ImagePool.create({ threads: 1 });
    try {
      // RGB 8-bit, 1500 × 1100 × 3 = 4.95 MB: a band of it spans two 4 MiB chunks.
      const layout = { width: 1500, height: 1100, channels: 3, depth: 8 } as const;
      const image = lowContrastImage(layout.width, layout.height, 3, 8, 31);
      const other = lowContrastImage(301, 257, 1, 16, 32);
      const params = { clipLimit: 3, tilesX: 7, tilesY: 5 };
      const [expected] = await oracleClaheBatch([{ image, op: 'luma', clahe: params }]);
      const expectedOther = await oracleEqualize(other, 'grey');
      const header = 40;
      const path = join(dir, 'image.raw');
      await writeFile(path, Buffer.concat([Buffer.alloc(header, 7), bytesOfImage(image)]));
      const otherPath = join(dir, 'other.raw');
      await writeFile(otherPath, bytesOfImage(other));
      const otherSource = { path: otherPath, offset: 0, layout: { ...other } };
      const row = rowBytes(layout);
      const strips = planStrips(layout.height, 3);
      const sources = strips.map((s) => ({
        path,
        offset: header + s.top * row,
        layout: { ...layout, height: s.rows },
      }));
      const bands: ClaheBand[] = strips.map((s) => ({ params, image: layout, top: s.top }));

      // Global work between the CLAHE steps: the thread's reused buffers see both.
      const bandHistograms = [];
      for (const [i, source] of sources.entries()) {
        bandHistograms.push(await pool.histogram(source, 'luma', { clahe: bands[i] }));
        await pool.histogram(otherSource, 'luma');
      }
      const { lut: tables } = await pool.lut(bandHistograms, layout, 'luma', params);
      const otherLut = (await pool.lut([await pool.histogram(otherSource, 'luma')], other, 'luma'))
        .lut;

      const outputs = await Promise.all(
        sources.map(async (source, i) => {
          const outPath = join(dir, `strip_${i}.raw`);
          const { sha256: checksum } = await pool.equalize({
            source,
            mode: 'luma',
            lut: tables,
            outPath,
            clahe: bands[i]!,
          });
          const otherOut = join(dir, `other_${i}.raw`);
          await pool.equalize({
            source: otherSource,
            mode: 'luma',
            lut: otherLut,
            outPath: otherOut,
          });
          assert.deepEqual(
            new Uint16Array(new Uint8Array(await readFile(otherOut)).buffer),
            expectedOther,
          );
          return { path: outPath, checksum };
        }),
      );
      const joined = Buffer.concat(await Promise.all(outputs.map((o) => readFile(o.path))));
      assert.deepEqual(new Uint8Array(joined), expected);

      const verify = (i: number, lut = tables) =>
        pool.verify({
          result: { path: outputs[i]!.path, offset: 0, layout: sources[i]!.layout },
          source: sources[i]!,
          checksum: outputs[i]!.checksum,
          rows: [0, 5, strips[i]!.rows - 1],
          mode: 'luma',
          lut,
          clahe: bands[i]!,
        });
      for (let i = 0; i < sources.length; i++) assert.deepEqual(await verify(i), { problem: null });
      const offByOne = tables.map((v) => (v + 1) % 256);
      assert.match((await verify(1, offByOne)).problem ?? '', /row 0 differs .* CLAHE tables/);

      // A wrong byte in a sampled row whose checksum was recorded after it: the rows catch it.
      const spoiled = await readFile(outputs[2]!.path);
      spoiled[5 * row + 17] ^= 0x10;
      await writeFile(outputs[2]!.path, spoiled);
      outputs[2]!.checksum = sha256(spoiled);
      assert.match((await verify(2)).problem ?? '', /row 5 differs .* CLAHE tables at byte 17/);

      // The preview samples pixels of the image, each through CLAHE at its own position.
      const plan = planPreview(layout, 256);
      const source = { path, offset: header, layout };
      const { output } = await pool.preview({
        source,
        plan,
        mode: 'luma',
        lut: tables,
        clahe: params,
      });
      const sampled = new Uint8Array(output.length);
      let at = 0;
      for (const y of plan.rows) {
        for (const x of plan.columns) {
          for (let c = 0; c < 3; c++) sampled[at++] = expected![(y * layout.width + x) * 3 + c]!;
        }
      }
      assert.deepEqual(output, sampled);
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
