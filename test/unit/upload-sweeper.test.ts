import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { seededRandom } from '../../src/common/random.js';
import { loadConfig } from '../../src/config.js';
import { sweepIdleUploads } from '../../src/web/tus/upload-sweeper.js';
import { captureLogger } from '../support/capture-logger.js';

describe('sweepIdleUploads', () => {
  it('UPLOAD_RESUME_EXPIRY_MS defaults to 24 h and is read from the environment', () => {
    assert.equal(loadConfig({}).resumableUploadExpiryMs, 24 * 60 * 60_000);
    assert.equal(loadConfig({ UPLOAD_RESUME_EXPIRY_MS: '5000' }).resumableUploadExpiryMs, 5000);
    assert.throws(() => loadConfig({ UPLOAD_RESUME_EXPIRY_MS: '10' }), /UPLOAD_RESUME_EXPIRY_MS/);
  });

  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tus-sweep-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('removes uploads idle past the expiry by their last byte, keeps moving and busy ones', async () => {
    const random = seededRandom(77);
    const now = Date.now();
    const expiryMs = 60_000;
    const hex = (n: number) => n.toString(16).padStart(32, '0');
    const expected: string[] = [];
    const busy = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const id = hex(i + 1);
      // Created long ago, but the data file may have moved recently: only that counts.
      const created = now - 10 * expiryMs;
      const lastByte = now - Math.floor(random() * 2 * expiryMs);
      const kind = Math.floor(random() * 3); // 0: in progress, 1: finished (.job), 2: no data
      const files: [string, number][] = [];
      if (kind === 0) files.push([id, lastByte], [`${id}.json`, created]);
      if (kind === 1) files.push([`${id}.job`, lastByte]);
      if (kind === 2) files.push([`${id}.json`, lastByte]);
      for (const [name, at] of files) {
        await writeFile(join(dir, name), 'x');
        await utimes(join(dir, name), at / 1000, at / 1000);
      }
      const isBusy = random() < 0.2;
      if (isBusy) busy.add(id);
      const idle = now - lastByte >= expiryMs;
      if (!idle || isBusy) expected.push(...files.map(([name]) => name));
    }
    await writeFile(join(dir, 'not-an-upload.txt'), 'keep');
    expected.push('not-an-upload.txt');
    const { logger } = captureLogger();
    await sweepIdleUploads(dir, expiryMs, busy, logger, now);
    assert.deepEqual((await readdir(dir)).sort(), expected.sort());
  });
});
