import assert from 'node:assert/strict';
import { access, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keptBand, keptBandSink } from '../../src/pool/kept-band.js';
import { rng } from '../support/images.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kept-band-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const layout = { width: 50, height: 40, channels: 1, depth: 8 } as const;
const source = { path: 'unused', offset: 0, layout };

async function keep(path: string, data: Uint8Array): Promise<void> {
  const sink = await keptBandSink(path);
  // In two pieces, as a histogram task's chunks arrive.
  await sink.write(data.subarray(0, 1000), 0);
  await sink.write(data.subarray(1000), 1000);
  await sink.finish();
}

describe('a decoded band kept between the phases', () => {
  it('is read back as kept, and a damaged one is refused and removed', async () => {
    const random = rng(3);
    const data = new Uint8Array(2000).map(() => Math.floor(random() * 256));
    const path = join(dir, 'decoded_0.raw');
    await keep(path, data);

    const good = await keptBand(path, source);
    assert.ok(good);
    good.hash.update(await readFile(path));
    await good.check();

    const file = await open(path, 'r+');
    await file.write(new Uint8Array([data[777]! ^ 1]), 0, 1, 777);
    await file.close();
    const damaged = await keptBand(path, source);
    assert.ok(damaged, 'same size: it is offered, and the hash decides');
    damaged.hash.update(await readFile(path)); // what the equalize task reads
    await assert.rejects(damaged.check(), /damaged/);
    await assert.rejects(access(path), 'removed, so the retry decodes again');
    assert.equal(await keptBand(path, source), null);
  });

  it('is not used when it is missing or of another size', async () => {
    assert.equal(await keptBand(join(dir, 'none.raw'), source), null);
    const path = join(dir, 'short.raw');
    await keep(path, new Uint8Array(1500));
    assert.equal(await keptBand(path, source), null);
  });
});
