import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/**
 * Files that readers on other pods may open at any moment are written under a temporary name
 * in the same folder and renamed into place: a reader sees the old file or the whole new one,
 * never half of one, and a re-run overwrites cleanly. The temporary name is unique per process
 * and call, so two writers of the same file never share one.
 */
export function temporaryName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/**
 * Runs `write` against a temporary name, then renames it to `path`. On failure the temporary
 * file is removed and the error passes on; `path` is untouched.
 */
export async function atomically<T>(path: string, write: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = temporaryName(path);
  try {
    const result = await write(tmp);
    await rename(tmp, path);
    return result;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Writes `data` to `path` atomically (see atomically). */
export function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: { mode?: number } = {},
): Promise<void> {
  return atomically(path, (tmp) => writeFile(tmp, data, options));
}
