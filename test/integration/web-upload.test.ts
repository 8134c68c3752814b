import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { HisteqError } from '../../src/common/errors.js';
import { JOB_ID } from '../../src/jobs/paths.js';
import {
  BOUNDARY,
  errorOf,
  image,
  multipart,
  postForm,
  raw,
  waitFor,
  type Part,
} from '../support/http-client.js';
import { resetHarness, startWebHarness, type WebHarness } from '../support/web-harness.js';

describe('web server: uploads', () => {
  let h: WebHarness;

  before(async () => {
    h = await startWebHarness({ maxUploadBytes: 64 * 1024 });
  });
  after(() => h.close());
  beforeEach(() => resetHarness(h));

  describe('POST /upload', () => {
    it('streams the file under a server name and submits it', async () => {
      const data = image(5000);
      const res = await postForm(h.url, [
        { name: 'mode', value: 'per-channel' },
        { name: 'image', filename: '../../etc/evil name.png', data },
        { name: 'page', value: '2' },
      ]);
      assert.equal(res.status, 200, res.body);
      const { job_id: id, ...rest } = JSON.parse(res.body) as { job_id: string };
      assert.deepEqual(rest, {});
      assert.match(id, JOB_ID);
      assert.ok(h.jobs.jobs.has(id), 'the id the job service made');
      const [request] = h.jobs.submitted;
      assert.ok(request);
      assert.equal(join(request.path, '..'), join(h.sharedDir, 'uploads'));
      assert.match(request.path, /\/[0-9a-f-]{36}\.upload$/);
      assert.equal(request.originalName, 'evil name.png');
      assert.deepEqual(request.options, { mode: 'per-channel', page: 2 });
      assert.deepEqual(await readFile(request.path), data);
      assert.deepEqual(await h.uploads(), [request.path.split('/').pop()]);
    });

    it('defaults mode to luma and page to 0 (also for blank fields)', async () => {
      const res = await postForm(h.url, [
        { name: 'page', value: '' },
        { name: 'image', filename: 'a.png', data: image() },
      ]);
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(h.jobs.submitted[0]?.options, { mode: 'luma', page: 0 });
    });

    it('reads method, clip_limit and tiles into the options; global ignores the other two', async () => {
      const clahe = await postForm(h.url, [
        { name: 'method', value: 'clahe' },
        { name: 'clip_limit', value: '2.5' },
        { name: 'tiles', value: '3x5' },
        { name: 'image', filename: 'a.png', data: image() },
      ]);
      assert.equal(clahe.status, 200, clahe.body);
      const defaults = await postForm(h.url, [
        { name: 'method', value: 'clahe' },
        { name: 'clip_limit', value: '' },
        { name: 'image', filename: 'b.png', data: image() },
      ]);
      assert.equal(defaults.status, 200, defaults.body);
      const global = await postForm(h.url, [
        { name: 'method', value: 'global' },
        { name: 'tiles', value: '3x5' },
        { name: 'image', filename: 'c.png', data: image() },
      ]);
      assert.equal(global.status, 200, global.body);
      assert.deepEqual(
        h.jobs.submitted.map((r) => r.options),
        [
          {
            mode: 'luma',
            page: 0,
            method: 'clahe',
            clahe: { clipLimit: 2.5, tilesX: 3, tilesY: 5 },
          },
          {
            mode: 'luma',
            page: 0,
            method: 'clahe',
            clahe: { clipLimit: 40, tilesX: 8, tilesY: 8 },
          },
          { mode: 'luma', page: 0 },
        ],
      );
    });

    const refusals: [string, Part[], RegExp][] = [
      ['no file', [{ name: 'mode', value: 'luma' }], /No file was sent/],
      ['another field name', [{ name: 'file', filename: 'a.png', data: image() }], /"file"/],
      [
        'two files',
        [
          { name: 'image', filename: 'a.png', data: image() },
          { name: 'image', filename: 'b.png', data: image() },
        ],
        /More than one file|exactly one file/,
      ],
      [
        'a bad mode',
        [
          { name: 'mode', value: 'sepia' },
          { name: 'image', filename: 'a.png', data: image() },
        ],
        /"mode" must be one of: luma, per-channel/,
      ],
      [
        'a negative page',
        [
          { name: 'page', value: '-1' },
          { name: 'image', filename: 'a.png', data: image() },
        ],
        /"page" must be a whole number/,
      ],
      [
        'an unknown method',
        [
          { name: 'method', value: 'local' },
          { name: 'image', filename: 'a.png', data: image() },
        ],
        /method must be global or clahe, not "local"/,
      ],
      [
        'a clip limit of 0',
        [
          { name: 'method', value: 'clahe' },
          { name: 'clip_limit', value: '0' },
          { name: 'image', filename: 'a.png', data: image() },
        ],
        /clip limit must be a number above 0/,
      ],
      [
        'tiles that are not CxR',
        [
          { name: 'method', value: 'clahe' },
          { name: 'tiles', value: 'many' },
          { name: 'image', filename: 'a.png', data: image() },
        ],
        /columns x rows, like 8x8, not "many"/,
      ],
      [
        'more than 256 tiles per side',
        [
          { name: 'method', value: 'clahe' },
          { name: 'tiles', value: '8x257' },
          { name: 'image', filename: 'a.png', data: image() },
        ],
        /1 to 256 tile rows, not 257/,
      ],
    ];
    for (const [what, parts, sentence] of refusals) {
      it(`refuses ${what} with 400 and keeps nothing`, async () => {
        const before = await h.uploads();
        const res = await postForm(h.url, parts);
        assert.equal(res.status, 400, res.body);
        assert.match(errorOf(res), sentence);
        assert.deepEqual(await h.uploads(), before);
        assert.equal(h.jobs.submitted.length, 0);
      });
    }

    it('refuses a body that is not multipart', async () => {
      const res = await raw(h.url, '/upload', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: [Buffer.from('{"image":"x"}')],
      });
      assert.equal(res.status, 400);
      assert.match(errorOf(res), /multipart\/form-data with the file in the field "image"/);
    });

    it('refuses a file over the limit with 413 while streaming, storing nothing', async () => {
      const before = await h.uploads();
      const res = await postForm(
        h.url,
        [{ name: 'image', filename: 'big.png', data: image(1024 * 1024) }],
        true,
      );
      assert.equal(res.status, 413);
      assert.equal(errorOf(res), 'The file is larger than the limit of 64 KiB (MAX_UPLOAD_BYTES).');
      assert.deepEqual(await h.uploads(), before);
      assert.equal(h.jobs.submitted.length, 0);
    });

    it('removes the partial file when the client goes away mid-upload', async () => {
      const before = await h.uploads();
      const body = multipart([{ name: 'image', filename: 'a.png', data: image(48 * 1024) }]);
      const req = http.request(`${h.url}/upload`, {
        method: 'POST',
        headers: {
          'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
          'Content-Length': body.length,
        },
      });
      req.on('error', () => {}); // the abort below is the point
      req.write(body.subarray(0, 32 * 1024));
      // Wait until the server has started the file, then vanish.
      await waitFor(async () => (await h.uploads()).length > before.length, 5_000);
      req.destroy();
      await waitFor(async () => (await h.uploads()).length === before.length, 5_000);
      assert.equal(h.jobs.submitted.length, 0);
    });

    it('refuses a declared oversize body with 413 before reading it', async () => {
      const before = await h.uploads();
      const res = await postForm(h.url, [
        { name: 'image', filename: 'big.png', data: image(512 * 1024) },
      ]);
      assert.equal(res.status, 413);
      assert.deepEqual(await h.uploads(), before);
    });

    const rejections: [string, Error, number, RegExp][] = [
      [
        'UNSUPPORTED_FORMAT',
        new HisteqError('UNSUPPORTED_FORMAT', 'GIF is not supported.'),
        415,
        /^GIF is not supported\.$/,
      ],
      ['BAD_INPUT', new HisteqError('BAD_INPUT', 'The file is truncated.'), 400, /truncated/],
      ['TOO_MANY_PIXELS', new HisteqError('TOO_MANY_PIXELS', 'Too many pixels.'), 422, /pixels/],
      ['CLUSTER_DEGRADED', new HisteqError('CLUSTER_DEGRADED', 'Only 1 pod.'), 503, /1 pod/],
      ['a plain Error', new Error('EACCES: /secret/path'), 500, /^The server could not/],
    ];
    for (const [what, err, status, sentence] of rejections) {
      it(`maps a submit rejection (${what}) to ${status} and removes the upload`, async () => {
        const before = await h.uploads();
        h.jobs.rejectNext = err;
        const res = await postForm(h.url, [{ name: 'image', filename: 'a.gif', data: image() }]);
        assert.equal(res.status, status);
        assert.match(errorOf(res), sentence);
        assert.doesNotMatch(res.body, /secret|at .*\.js/);
        assert.deepEqual(await h.uploads(), before);
      });
    }
  });
});
