import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_MAX_DECODED_BYTES, probeImage } from '../../src/imaging/probe.js';
import { readTiffIfd, TIFF_TAGS_READ } from '../../src/imaging/tiff-ifd.js';
import { decompressionBombPng, tagAmplificationTiff } from '../support/hostile-images.js';
import { lowContrastImage } from '../support/images.js';
import { useTempDir } from '../support/paths.js';

const tempDir = useTempDir('hostile-');
const MAX_PIXELS = 268_402_689;
const probeUrl = new URL('../../src/imaging/probe.js', import.meta.url).href;

/** 80×64 grey with 5,000 private tags of 2^20 BYTE values each, sharing one 1 MiB blob. */
async function amplificationFile(): Promise<string> {
  const image = lowContrastImage(80, 64, 1, 8, 16);
  const bytes = tagAmplificationTiff(80, 64, image.data as Uint8Array, 5_000, 1 << 20);
  const path = join(tempDir(), 'amplified.tif');
  await writeFile(path, bytes);
  return path;
}

describe('hostile TIFF directories', () => {
  it('5,000 tags claiming 2^20 values each: the probe reads only what it needs, in a small heap', async () => {
    const path = await amplificationFile();
    // A separate process with a small heap: expanding every tag (5,000 × 8 MB arrays) dies there.
    const script = `
      const { probeImage } = await import(${JSON.stringify(probeUrl)});
      const info = await probeImage(process.argv[1], { maxPixels: ${MAX_PIXELS} });
      const m = process.memoryUsage();
      console.log(JSON.stringify({ layout: info.layout, raw: info.rawOffset !== undefined, heap: m.heapUsed, rss: m.rss }));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--max-old-space-size=48', '--input-type=module', '-e', script, path],
      { timeout: 60_000 },
    );
    const result = JSON.parse(stdout) as {
      layout: { width: number; height: number; channels: number; depth: number };
      raw: boolean;
      heap: number;
    };
    assert.deepEqual(result.layout, { width: 80, height: 64, channels: 1, depth: 8 });
    assert.ok(result.raw, 'the pixels are still found in place');
    assert.ok(result.heap < 40 << 20, `heap after the probe: ${result.heap} bytes`);
  });

  it('keeps only the tags the probe decides with', async () => {
    const ifd = await readTiffIfd(await amplificationFile(), 0);
    assert.ok(ifd);
    for (const tag of ifd.fields.keys()) assert.ok(TIFF_TAGS_READ.has(tag), `tag ${tag} kept`);
    assert.equal(ifd.fields.get(256)?.[0], 80);
  });

  it('refuses a directory whose needed tags claim more values than the bound', async () => {
    // Strip offsets claiming 2^22 LONG values: more than any image within the limits needs.
    const image = lowContrastImage(8, 8, 1, 8, 1);
    const bytes = tagAmplificationTiff(8, 8, image.data as Uint8Array, 0, 0);
    const entry = 10 + 12 * 5; // tag 273, the sixth entry
    bytes.writeUInt32LE(1 << 22, entry + 4);
    const path = join(tempDir(), 'strips.tif');
    await writeFile(path, bytes);
    await assert.rejects(probeImage(path, { maxPixels: MAX_PIXELS }), {
      code: 'BAD_INPUT',
      message: /directory is too large/,
    });
  });
});

describe('MAX_DECODED_BYTES', () => {
  it('defaults to 256 MiB and is validated', () => {
    assert.equal(loadConfig({}).maxDecodedBytes, DEFAULT_MAX_DECODED_BYTES);
    assert.equal(DEFAULT_MAX_DECODED_BYTES, 256 * 1024 * 1024);
    assert.equal(loadConfig({ MAX_DECODED_BYTES: '1000' }).maxDecodedBytes, 1000);
    assert.throws(() => loadConfig({ MAX_DECODED_BYTES: '0' }), /MAX_DECODED_BYTES/);
  });

  it('an 8192×8192 RGBA 16-bit PNG within the pixel limit is refused from its header', async () => {
    const bomb = await decompressionBombPng(8192, 8192);
    assert.ok(bomb.length < 1 << 20, `the bomb is ${bomb.length} bytes`);
    const path = join(tempDir(), 'bomb.png');
    await writeFile(path, bomb);
    await assert.rejects(probeImage(path, { maxPixels: MAX_PIXELS }), (err: Error) => {
      assert.equal((err as Error & { code?: string }).code, 'TOO_MANY_BYTES');
      assert.match(err.message, /^The image decodes to 512 MiB .* \(MAX_DECODED_BYTES\)\.$/);
      return true;
    });
    // Raised, the same file is accepted (the limit is what refused it, nothing else).
    const info = await probeImage(path, { maxPixels: MAX_PIXELS, maxDecodedBytes: 1 << 30 });
    assert.deepEqual(info.layout, { width: 8192, height: 8192, channels: 4, depth: 16 });
  });
});
