import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeRaw, lowContrastImage, writeImage } from '../support/images.js';
import { oracleClaheBatch, oracleEqualize } from '../support/oracle.js';
import { CLI } from '../support/paths.js';

const exec = promisify(execFile);
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function histeq(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec('node', [CLI, ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const readRaw = decodeRaw;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('histeq equalize', () => {
  const cases = [
    {
      name: 'grey 8-bit TIFF',
      image: lowContrastImage(333, 250, 1, 8, 1),
      format: 'tiff',
      ext: 'tif',
      op: 'grey',
    },
    {
      name: 'grey 16-bit TIFF (LZW)',
      image: lowContrastImage(210, 190, 1, 16, 2),
      format: 'tiff',
      ext: 'tiff',
      op: 'grey',
    },
    {
      name: 'RGB 8-bit PNG, luma',
      image: lowContrastImage(150, 120, 3, 8, 3),
      format: 'png',
      ext: 'png',
      op: 'luma',
    },
  ] as const;
  for (const c of cases) {
    for (const tasks of [1, 3, 17]) {
      it(`${c.name} with ${tasks} task(s) equals the reference`, async () => {
        const input = join(dir, `in-${c.op}-${c.image.depth}-${tasks}.${c.ext}`);
        const output = join(dir, `out-${c.op}-${c.image.depth}-${tasks}.${c.ext}`);
        await writeImage(c.image, input, c.format, {
          compression: c.image.depth === 16 ? 'lzw' : 'none',
        });
        const r = await histeq(['equalize', input, output, '--tasks', String(tasks)]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /pixels .* task.* s, [\d.]+ MP\/s/);
        assert.deepEqual(await readRaw(output, c.image), await oracleEqualize(c.image, c.op));
      });
    }
  }

  it('per-channel mode equals OpenCV per channel', async () => {
    const image = lowContrastImage(120, 90, 4, 8, 9);
    const input = join(dir, 'rgba.png');
    const output = join(dir, 'rgba-out.png');
    await writeImage(image, input, 'png');
    const r = await histeq(['equalize', input, output, '--mode', 'per-channel', '--tasks', '4']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readRaw(output, image), await oracleEqualize(image, 'per-channel'));
  });
});

describe('histeq equalize --method clahe', () => {
  const cases = [
    {
      name: 'grey 8-bit TIFF (raw, in place)',
      image: lowContrastImage(203, 157, 1, 8, 11),
      format: 'tiff',
      ext: 'tif',
      op: 'grey',
      compression: 'none',
    },
    {
      name: 'grey 16-bit TIFF (LZW, staged)',
      image: lowContrastImage(91, 77, 1, 16, 12),
      format: 'tiff',
      ext: 'tif',
      op: 'grey',
      compression: 'lzw',
    },
    {
      name: 'RGBA 8-bit PNG, luma',
      image: lowContrastImage(75, 61, 4, 8, 13),
      format: 'png',
      ext: 'png',
      op: 'luma',
      compression: 'none',
    },
  ] as const;
  for (const c of cases) {
    it(`${c.name} equals OpenCV createCLAHE(2, 5x3) for 1, 4 and 17 tasks`, async () => {
      const input = join(dir, `clahe-in-${c.image.depth}-${c.image.channels}.${c.ext}`);
      await writeImage(c.image, input, c.format, { compression: c.compression });
      const [expected] = await oracleClaheBatch([
        { image: c.image, op: c.op, clahe: { clipLimit: 2, tilesX: 5, tilesY: 3 } },
      ]);
      for (const tasks of [1, 4, 17]) {
        const output = join(
          dir,
          `clahe-out-${c.image.depth}-${c.image.channels}-${tasks}.${c.ext}`,
        );
        const args = ['--method', 'clahe', '--clip-limit', '2', '--tiles', '5x3'];
        const r = await histeq(['equalize', input, output, ...args, '--tasks', String(tasks)]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /CLAHE clip 2, 5x3 tiles/);
        assert.deepEqual(await readRaw(output, c.image), expected, `${tasks} tasks`);
      }
    });
  }
});

describe('histeq equalize refuses bad input with one sentence and no output', () => {
  it('each bad input exits 1, prints one line, no stack trace, writes nothing', async () => {
    const good = join(dir, 'good.png');
    await writeImage(lowContrastImage(40, 30, 1, 8, 5), good, 'png');
    const png = await readFile(good);
    const files: Record<string, Buffer | string> = {
      'empty.tif': '',
      'text.tif': 'this is a text file, not an image\n',
      'truncated.png': png.subarray(0, Math.floor(png.length * 0.6)),
      'anim.gif': Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'),
    };
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);

    const cases: { args: string[]; env?: Record<string, string>; expect: RegExp }[] = [
      { args: [join(dir, 'empty.tif')], expect: /empty/ },
      { args: [join(dir, 'text.tif')], expect: /not a TIFF, PNG or JPEG image/ },
      { args: [join(dir, 'truncated.png')], expect: /The PNG file is truncated: / },
      { args: [join(dir, 'anim.gif')], expect: /GIF images are not supported/ },
      { args: [good], env: { MAX_PIXELS: '1000' }, expect: /more than the limit of 1,000 pixels/ },
      { args: [join(dir, 'missing.tif')], expect: /no such file/ },
      { args: [good, '--page', '2'], expect: /page 2 does not exist/ },
      { args: [good, '--tasks', '0'], expect: /expected a whole number ≥ 1/ },
      { args: [good, '--mode', 'sideways'], expect: /sideways/ },
      { args: [good, '--method', 'local'], expect: /local/ },
      { args: [good, '--method', 'clahe', '--clip-limit', '0'], expect: /clip limit .* above 0/ },
      { args: [good, '--method', 'clahe', '--clip-limit', 'x'], expect: /clip limit .* "x"/ },
      { args: [good, '--method', 'clahe', '--tiles', '8by8'], expect: /columns x rows/ },
      { args: [good, '--method', 'clahe', '--tiles', '0x4'], expect: /1 to 256 tile columns/ },
      { args: [good, '--method', 'clahe', '--tiles', '4x257'], expect: /1 to 256 tile rows/ },
      { args: [good, '--method', 'clahe', '--tiles', '41x2'], expect: /at most 40x30 tiles/ },
    ];
    for (const [i, c] of cases.entries()) {
      const output = join(dir, `bad-out-${i}.png`);
      const r = await histeq(
        ['equalize', ...c.args.slice(0, 1), output, ...c.args.slice(1)],
        c.env,
      );
      const what = `${c.args.join(' ')} → ${r.stderr}`;
      assert.equal(r.code, 1, what);
      assert.match(r.stderr, c.expect, what);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace in: ${what}`);
      assert.equal(await exists(output), false, `output written for ${what}`);
    }

    const wrongExt = await histeq(['equalize', good, join(dir, 'wrong.tif')]);
    assert.equal(wrongExt.code, 1);
    assert.match(wrongExt.stderr, /input is PNG .* name the output \.png/);
    assert.equal(await exists(join(dir, 'wrong.tif')), false);
  });
});
