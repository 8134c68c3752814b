import { createHash, type Hash } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../common/atomic-file.js';
import { imageBytes } from '../imaging/types.js';
import type { StripRef } from './protocol.js';
import { atomicFileSink, type StripSink } from './strip-io.js';

/**
 * A band decoded by its histogram task, kept for its equalize task: decoding a 64 MP LZW page
 * took 1.6 s on one thread where writing the samples and reading them back took about 0.1–0.4 s
 * (2-core VM, 2026-12-01). The SHA-256 of the samples is kept next to them and checked as the
 * equalize task reads them, so a damaged file is never used: it is removed and the retry
 * decodes the band again.
 */
export async function keptBandSink(path: string): Promise<StripSink> {
  const sink = await atomicFileSink(path);
  return {
    write: (bytes, at) => sink.write(bytes, at),
    finish: async () => {
      const sha256 = await sink.finish();
      await writeFileAtomic(`${path}.sha256`, sha256);
      return sha256;
    },
    discard: () => sink.discard(),
  };
}

export interface KeptBand {
  ref: StripRef;
  /** Fed the samples as read (before they change), in order. */
  hash: Hash;
  /** Throws (and removes the kept band) when what was read is not what was kept. */
  check(): Promise<void>;
}

/** The kept band of `source` at `path`, or null when there is none of the right size. */
export async function keptBand(path: string, source: StripRef): Promise<KeptBand | null> {
  const expected = await readFile(`${path}.sha256`, 'utf8').catch(() => null);
  const size = await stat(path).then(
    (s) => s.size,
    () => -1,
  );
  if (expected === null || size !== imageBytes(source.layout)) return null;
  const hash = createHash('sha256');
  return {
    ref: { path, offset: 0, layout: source.layout },
    hash,
    check: async () => {
      if (hash.digest('hex') === expected) return;
      await Promise.all([rm(path, { force: true }), rm(`${path}.sha256`, { force: true })]);
      throw new Error(`the kept decoded band ${path} is damaged; the retry decodes the band again`);
    },
  };
}
