import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { previewName, statsName } from '../../src/jobs/master/job-previews.js';
import { captureLogger } from '../support/capture-logger.js';
import { startWebHarness, type WebHarness } from '../support/web-harness.js';

/**
 * The local cluster's default SHARED_DIR is `.local/shared` inside the repository, so every
 * result path has a dot folder in it: results must be served from there all the same.
 */
describe('results under a SHARED_DIR inside a dot folder', () => {
  let h: WebHarness;
  const log = captureLogger();
  const id = 'dotdir1-0123abcd';

  before(async () => {
    h = await startWebHarness({ sharedSubdir: '.local/shared', logger: log.logger });
    const results = join(h.sharedDir, 'results');
    await mkdir(results, { recursive: true });
    await writeFile(join(results, `${id}.png`), 'RESULT');
    await writeFile(join(results, previewName(id, 'in')), 'PREVIEW-IN');
    await writeFile(join(results, previewName(id, 'out')), 'PREVIEW-OUT');
    await writeFile(join(results, statsName(id)), '{"plane":0}');
  });
  after(async () => {
    await h?.close();
  });

  it('serves the result, both previews and the stats', async () => {
    assert.match(h.sharedDir, /\/\.local\/shared$/);
    const expected: [string, string][] = [
      [`/download/${id}.png`, 'RESULT'],
      [`/api/jobs/${id}/preview/in`, 'PREVIEW-IN'],
      [`/api/jobs/${id}/preview/out`, 'PREVIEW-OUT'],
      [`/api/jobs/${id}/stats`, '{"plane":0}'],
    ];
    for (const [path, body] of expected) {
      const res = await fetch(`${h.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(await res.text(), body, path);
    }
  });

  it('logs a refused read of a result at debug level, not once per retry at info', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await fetch(`${h.url}/api/jobs/nojob00-0123abcd/preview/out`)).status, 404);
      assert.equal((await fetch(`${h.url}/download/nojob00-0123abcd.png`)).status, 404);
    }
    const refused = log.events().filter((e) => e.msg === 'request refused');
    assert.equal(refused.length, 6);
    assert.deepEqual(
      refused.map((e) => e.level),
      Array<string>(6).fill('debug'),
    );
    // Refusals that are a user's action stay visible.
    const upload = await fetch(`${h.url}/upload`, { method: 'POST' });
    assert.ok(upload.status >= 400 && upload.status < 500);
    const last = log
      .events()
      .filter((e) => e.msg === 'request refused')
      .at(-1);
    assert.equal(last?.level, 'info');
  });
});
