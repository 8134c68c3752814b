import { randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureRoom } from '../common/storage.js';
import type { JobOptions } from '../jobs/types.js';
import type { WebDeps } from './deps.js';

/**
 * Submits a file that already lies on the shared volume (an inbox file, a finished resumable
 * upload) as a job, the way POST /upload submits the file it streamed: the job service probes
 * it and refuses what it cannot read (415, 422) before creating anything. The file is
 * hard-linked into uploads/ (copied where linking is impossible), so the job, its retention and
 * its deletion only ever remove that link; on a refusal the link is removed again.
 */
export async function submitStoredFile(
  deps: WebDeps,
  file: { source: string; originalName: string; options: JobOptions; what: string },
): Promise<string> {
  const uploadsDir = join(deps.sharedDir, 'uploads');
  await mkdir(uploadsDir, { recursive: true });
  const upload = join(uploadsDir, `${randomUUID()}.upload`);
  await linkOrCopy(file.source, upload, deps, file.what);
  try {
    const { id } = await deps.jobs.submit({
      path: upload,
      originalName: file.originalName,
      options: file.options,
    });
    return id;
  } catch (err) {
    await rm(upload, { force: true });
    throw err;
  }
}

async function linkOrCopy(source: string, target: string, deps: WebDeps, what: string) {
  try {
    await link(source, target);
  } catch {
    // Another file system or a volume without hard links: a copy, which needs room.
    const { size } = await stat(source);
    await ensureRoom(deps.sharedDir, size, deps.storageReserveBytes ?? 0, what);
    await copyFile(source, target);
  }
}
