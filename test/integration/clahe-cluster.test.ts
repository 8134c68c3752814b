import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeRaw, lowContrastImage, writeImage, type TestFormat } from '../support/images.js';
import { oracleClaheBatch, type RawImage } from '../support/oracle.js';
import { uploadFile, waitForJob } from '../support/cluster.js';
import { taskCountCluster } from '../support/task-count-cluster.js';

const cluster = taskCountCluster('clahe-cluster', 3);

const decode = decodeRaw;

const FIELDS = { method: 'clahe', clip_limit: '2', tiles: '5x3' };
const CLAHE = { clipLimit: 2, tilesX: 5, tilesY: 3 };

const cases: {
  name: string;
  image: RawImage;
  format: TestFormat;
  ext: string;
  mode: 'luma' | 'per-channel';
  compression: 'none' | 'lzw';
  /** Set: a tiled TIFF with tiles of this size, whose bands follow the tile rows. */
  tileSize?: number;
  /** Bands the image can be split into (rows, or tile rows of a tiled TIFF). */
  bands: number;
}[] = [
  {
    name: 'grey 8-bit raw TIFF (in place)',
    image: lowContrastImage(97, 83, 1, 8, 21),
    format: 'tiff',
    ext: 'tif',
    mode: 'luma',
    compression: 'none',
    bands: 83,
  },
  {
    name: 'RGB 8-bit PNG per channel (staged)',
    image: lowContrastImage(61, 47, 3, 8, 22),
    format: 'png',
    ext: 'png',
    mode: 'per-channel',
    compression: 'none',
    bands: 47,
  },
  {
    name: 'grey 16-bit PNG (staged)',
    image: lowContrastImage(53, 41, 1, 16, 23),
    format: 'png',
    ext: 'png',
    mode: 'luma',
    compression: 'none',
    bands: 41,
  },
  {
    // 16-row tiles: band borders at rows 16 and 32 cut the 3 CLAHE tile rows (about 14 rows).
    name: 'grey 16-bit LZW TIFF in 16×16 tiles (codec)',
    image: lowContrastImage(53, 41, 1, 16, 25),
    format: 'tiff',
    ext: 'tif',
    mode: 'luma',
    compression: 'lzw',
    tileSize: 16,
    bands: 3,
  },
];

describe('CLAHE through a 3-pod local cluster', () => {
  for (const c of cases) {
    it(`${c.name}: equals the CLI and OpenCV for 1, 4, 17 and one-row tasks`, async () => {
      const input = join(
        cluster.tc.dir,
        `clahe-${c.image.depth}-${c.image.channels}-${c.bands}.${c.ext}`,
      );
      await writeImage(c.image, input, c.format, {
        compression: c.compression,
        ...(c.tileSize ? { tileSize: c.tileSize } : {}),
      });
      const bytes = await readFile(input);
      const op = c.image.channels >= 3 ? c.mode : 'grey';
      const [expected] = await oracleClaheBatch([{ image: c.image, op, clahe: CLAHE }]);
      const cliOut = `${input}.cli.${c.ext}`;
      const cliArgs = ['--method', 'clahe', '--clip-limit', '2', '--tiles', '5x3'];
      await cluster.equalizeWithCli(input, cliOut, ['--mode', c.mode, ...cliArgs]);
      const cli = await decode(await readFile(cliOut), c.image);
      assert.deepEqual(cli, expected, 'the CLI equals OpenCV');
      // 17 tasks: more bands than the 3 tile rows, borders inside them; height: one row each.
      for (const tasks of [1, 4, 17, c.image.height]) {
        await cluster.setTasksPerJob(tasks);
        const res = await uploadFile(cluster.tc.url, bytes, `clahe.${c.ext}`, {
          ...FIELDS,
          mode: c.mode,
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const job = await waitForJob(cluster.tc.url, res.body.job_id as string, 120_000);
        assert.equal(job.state, 'done', job.error);
        assert.equal(job.total, Math.min(tasks, c.bands));
        assert.deepEqual(job.options.clahe, CLAHE);
        assert.equal(job.options.method, 'clahe');
        const result = await fetch(`${cluster.tc.url}${job.url}`);
        assert.equal(result.status, 200);
        const got = await decode(new Uint8Array(await result.arrayBuffer()), c.image);
        assert.deepEqual(got, cli, `${tasks} tasks`);
      }
    });
  }

  it('the output preview shows the CLAHE result, pixel for pixel', async () => {
    const image = lowContrastImage(90, 70, 1, 8, 24);
    const input = join(cluster.tc.dir, 'clahe-preview.png');
    await writeImage(image, input, 'png');
    await cluster.setTasksPerJob(5);
    const res = await uploadFile(cluster.tc.url, await readFile(input), 'preview.png', FIELDS);
    const job = await waitForJob(cluster.tc.url, res.body.job_id as string, 120_000);
    assert.equal(job.state, 'done', job.error);
    const preview = await fetch(`${cluster.tc.url}/api/jobs/${job.id}/preview/out`);
    assert.equal(preview.status, 200);
    const [expected] = await oracleClaheBatch([{ image, op: 'grey', clahe: CLAHE }]);
    // The image is smaller than a preview, so the preview samples every pixel.
    assert.deepEqual(await decode(new Uint8Array(await preview.arrayBuffer()), image), expected);
  });

  it('refuses bad method fields, and a grid larger than the image, with one sentence', async () => {
    const input = join(cluster.tc.dir, 'clahe-bad.png');
    await writeImage(lowContrastImage(40, 30, 1, 8, 25), input, 'png');
    const bytes = await readFile(input);
    const bad: [Record<string, string>, RegExp][] = [
      [{ method: 'local' }, /method must be global or clahe/],
      [{ method: 'clahe', clip_limit: '-1' }, /clip limit must be a number above 0/],
      [{ method: 'clahe', tiles: '8' }, /columns x rows/],
      [{ method: 'clahe', tiles: '300x2' }, /1 to 256 tile columns/],
      [{ method: 'clahe', tiles: '41x30' }, /at most 40x30 tiles/],
    ];
    for (const [fields, message] of bad) {
      const res = await uploadFile(cluster.tc.url, bytes, 'bad.png', fields);
      assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(fields)}: ${res.status}`);
      assert.match(JSON.stringify(res.body), message);
    }
  });
});
