import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp, { type TiffOptions } from 'sharp';
import { createLogger } from '../../src/common/log.js';
import { ZkSession } from '../../src/coordination/index.js';
import { PARAMS_PATH } from '../../src/jobs/paths.js';
import { startTestCluster, uploadFile, waitForJob, type TestCluster } from '../support/cluster.js';
import { colourspaceFor, lowContrastImage, writeMultiPageTiff } from '../support/images.js';
import { oracleDecode, oracleEqualize, type RawImage } from '../support/oracle.js';
import { CLI } from '../support/paths.js';
import { writeOddTiff } from '../support/tiff-file.js';

const exec = promisify(execFile);
let tc: TestCluster;
let admin: ZkSession;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'codec-pipeline-'));
  tc = await startTestCluster({ pods: 5 });
  admin = await ZkSession.create({
    connectionString: tc.zk.connectionString,
    sessionTimeoutMs: 4_000,
    logger: createLogger({ pod: 'test-admin', level: 'silent' }),
  });
});
after(async () => {
  await admin?.close();
  await tc?.close();
  await rm(dir, { recursive: true, force: true });
});

async function setTasksPerJob(tasks: number): Promise<void> {
  await admin.ensurePath(PARAMS_PATH);
  await admin.setData(PARAMS_PATH, JSON.stringify({ tasks_per_job: tasks }));
  await new Promise((r) => setTimeout(r, 300)); // pods learn it through their watch
}

interface Case {
  name: string;
  image: RawImage;
  /** Writes the input file. */
  write: (path: string) => Promise<void>;
  mode: 'luma' | 'per-channel';
  page?: number;
  /** The result is a BigTIFF. */
  bigTiff?: boolean;
}

function sharpTiff(image: RawImage, options: TiffOptions) {
  return (path: string) =>
    sharp(image.data, {
      raw: { width: image.width, height: image.height, channels: image.channels },
    })
      .toColourspace(colourspaceFor(image))
      .tiff(options)
      .toFile(path)
      .then(() => undefined);
}

const grey8 = lowContrastImage(613, 411, 1, 8, 1);
const rgb8 = lowContrastImage(333, 250, 3, 8, 2);
const grey16 = lowContrastImage(300, 217, 1, 16, 3);
const rgba8 = lowContrastImage(257, 190, 4, 8, 4);
const bigGrey = lowContrastImage(401, 203, 1, 8, 5);
const pages = [lowContrastImage(120, 90, 1, 8, 6), lowContrastImage(211, 143, 1, 8, 7)];

const CASES: Case[] = [
  {
    name: '8-bit grey, LZW + predictor, strips',
    image: grey8,
    write: sharpTiff(grey8, { compression: 'lzw', predictor: 'horizontal' }),
    mode: 'luma',
  },
  {
    name: '8-bit RGB, deflate, 64×64 tiles (size off the grid), per channel',
    image: rgb8,
    write: sharpTiff(rgb8, {
      compression: 'deflate',
      predictor: 'none',
      tile: true,
      tileWidth: 64,
      tileHeight: 64,
    }),
    mode: 'per-channel',
  },
  {
    name: '16-bit grey, LZW without predictor, tiles',
    image: grey16,
    write: sharpTiff(grey16, {
      compression: 'lzw',
      predictor: 'none',
      tile: true,
      tileWidth: 48,
      tileHeight: 32,
    }),
    mode: 'luma',
  },
  {
    name: '8-bit RGBA, PackBits, strips, per channel',
    image: rgba8,
    write: sharpTiff(rgba8, { compression: 'packbits' }),
    mode: 'per-channel',
  },
  {
    name: 'BigTIFF, deflate strips stored in reverse order',
    image: bigGrey,
    write: (path) =>
      writeOddTiff(bigGrey, path, { bigTiff: true, reversed: true, rowsPerStrip: 16 }),
    mode: 'luma',
    bigTiff: true,
  },
  {
    name: 'page 1 of a multi-page LZW TIFF',
    image: pages[1]!,
    write: (path) => writeMultiPageTiff(pages, path, 'lzw'),
    mode: 'luma',
    page: 1,
  },
];

describe('chunked TIFFs through a 5-pod cluster: tasks decode and encode, the master assembles', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, { timeout: 120_000 }, async () => {
      const input = join(dir, `in-${i}.tif`);
      await c.write(input);
      const single = join(dir, `cli-${i}.tif`);
      const page = String(c.page ?? 0);
      await exec('node', [
        CLI,
        'equalize',
        input,
        single,
        '--mode',
        c.mode,
        '--page',
        page,
        '--tasks',
        '2',
      ]);
      const expected = await readFile(single);
      assert.equal(expected.readUInt16LE(2), c.bigTiff ? 43 : 42);

      // The reference: OpenCV's equalizeHist (8-bit), the README's formulas in NumPy (16-bit).
      const op = c.image.channels === 1 ? 'grey' : 'per-channel';
      const reference = await oracleEqualize(c.image, op);
      const decoded = await oracleDecode(single);
      assert.deepEqual(
        { ...decoded, data: undefined },
        { ...c.image, data: undefined },
        'OpenCV reads the layout back',
      );
      if (c.image.channels === 4) {
        // OpenCV premultiplies unassociated alpha as it reads: compare libvips' reading, which
        // keeps the samples as stored.
        const samples = await sharp(single).toColourspace('srgb').raw().toBuffer();
        assert.deepEqual(new Uint8Array(samples), reference);
      } else {
        assert.deepEqual(decoded.data, reference);
      }

      for (const tasks of [1, 3, 7]) {
        await setTasksPerJob(tasks);
        const up = await uploadFile(tc.url, await readFile(input), `in-${i}.tif`, {
          mode: c.mode,
          page,
        });
        assert.equal(up.status, 200, JSON.stringify(up.body));
        const job = await waitForJob(tc.url, String(up.body.job_id));
        assert.equal(job.state, 'done', job.error);
        const res = await fetch(`${tc.url}${job.url!}`);
        const got = Buffer.from(await res.arrayBuffer());
        assert.ok(
          got.equals(expected),
          `${tasks} tasks: the result equals the single process's byte for byte`,
        );
      }
    });
  }
});
