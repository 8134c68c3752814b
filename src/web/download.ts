import { realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { RequestHandler, Response } from 'express';
import { HttpError } from './http-errors.js';

/**
 * A result file is named by the server: `<job id>.<image extension>`, the id made of letters,
 * digits, `-` and `_`. Anything else (dots, slashes, encoded or not) is refused before the file
 * system is touched.
 */
export const RESULT_FILE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}\.(?:png|jpe?g|tiff?)$/;

export function isResultFileName(name: string): boolean {
  return RESULT_FILE_PATTERN.test(name);
}

/** GET /download/:file — serves only regular files that really live in SHARED_DIR/results. */
export function downloadHandler(sharedDir: string): RequestHandler {
  const resultsDir = join(sharedDir, 'results');
  return async (req, res) => {
    const name = String(req.params.file ?? '');
    if (!isResultFileName(name)) {
      throw new HttpError(400, 'That is not the name of a result file.');
    }
    const missing = new HttpError(404, `There is no result named ${name}.`);
    const found = await resolveInside(resultsDir, name);
    if (!found) throw missing;
    res.attachment(name);
    res.set('Cache-Control', 'no-store');
    await sendInside(res, found);
  };
}

/** A file that resolveInside found: its folder's real path and the real path of the file. */
export interface FoundFile {
  root: string;
  real: string;
}

/**
 * Sends a file found by resolveInside. The file is named relative to its folder so that `send`
 * applies its dot-file rule to the name only: SHARED_DIR itself may sit under a dot folder
 * (the local default is `.local/shared`), which an absolute path would make a 403.
 */
export function sendInside(res: Response, { root, real }: FoundFile): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Once bytes went out, a failure (usually the client leaving) can only end the stream.
    res.sendFile(relative(root, real), { root, dotfiles: 'deny' }, (err) =>
      err && !res.headersSent ? reject(err) : resolve(),
    );
  });
}

/**
 * The real path of `dir/name` if it is a regular file whose real path is inside `dir`'s real
 * path: a symlink in results/ must not lead out of it, and a directory is no download either.
 */
export async function resolveInside(dir: string, name: string): Promise<FoundFile | null> {
  try {
    const [root, real] = await Promise.all([realpath(dir), realpath(join(dir, name))]);
    if (!real.startsWith(root + sep)) return null;
    return (await stat(real)).isFile() ? { root, real } : null;
  } catch {
    return null;
  }
}
