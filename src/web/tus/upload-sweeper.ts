import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/log.js';

export const DEFAULT_UPLOAD_RESUME_EXPIRY_MS = 24 * 60 * 60_000;

/** The files of one upload id: the data, its tus info, and the job record once complete. */
const UPLOAD_FILE = /^([0-9a-f]{32})(\.json|\.job)?$/;

/**
 * Removes resumable uploads nobody has added a byte to for `expiryMs` (the data file's
 * modification time, so an upload that is still moving never expires, however long it takes),
 * and job records that old. @tus/file-store's own expiry counts from creation instead, which
 * would cut off a slow multi-gigabyte upload that is still making progress.
 */
export async function sweepIdleUploads(
  dir: string,
  expiryMs: number,
  busy: ReadonlySet<string>,
  logger: Logger,
  now = Date.now(),
): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  const ids = new Set<string>();
  for (const name of names) {
    const id = UPLOAD_FILE.exec(name)?.[1];
    if (id && !busy.has(id)) ids.add(id);
  }
  let removed = 0;
  for (const id of ids) {
    const files = [id, `${id}.json`, `${id}.job`].map((name) => join(dir, name));
    const times = await Promise.all(
      files.map((file) =>
        stat(file).then(
          (s) => s.mtimeMs,
          () => null,
        ),
      ),
    );
    const last = Math.max(...times.map((t) => t ?? 0));
    if (now - last < expiryMs) continue;
    await Promise.all(files.map((file) => rm(file, { force: true })));
    logger.info({ uploadId: id, idleMs: Math.round(now - last) }, 'idle resumable upload removed');
    removed++;
  }
  return removed;
}
