import { statfs } from 'node:fs/promises';
import { HisteqError } from './errors.js';

/** Bytes an unprivileged process may still write on the file system holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

/**
 * Refuses (INSUFFICIENT_STORAGE → 507) when the file system of `dir` has less than `need` plus
 * `reserve` bytes free. A full SHARED_DIR would otherwise fail a job halfway through and could
 * starve every other job of room for its strips; refusing up front costs the cluster nothing.
 * The sentence names sizes, never the path.
 */
export async function ensureRoom(
  dir: string,
  need: number,
  reserve: number,
  what: string,
): Promise<void> {
  const free = await freeBytes(dir);
  if (free >= need + reserve) return;
  throw new HisteqError(
    'INSUFFICIENT_STORAGE',
    `The shared storage has not enough free space for ${what} (needs about ${mib(need + reserve)}, ${mib(free)} free); please retry later or free space.`,
  );
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MiB`;
}
