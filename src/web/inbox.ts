import { realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, sep } from 'node:path';
import type { RequestHandler } from 'express';
import type { WebDeps } from './deps.js';
import { HttpError } from './http-errors.js';
import { asFields } from './job-actions.js';
import { submitStoredFile } from './stored-file.js';
import { parseJobOptions } from './upload.js';

const PATH_EXAMPLE = 'such as {"path": "scan.tif"}';

/**
 * POST /api/jobs {"path": "<name>", ...options}: a job from a file already placed in
 * SHARED_DIR/inbox, for images too large to send through a browser. The file is hard-linked
 * into uploads/ (copied where linking is impossible), so the job, its retention and its
 * deletion only ever remove the link: the inbox file is left as the user placed it.
 */
export function inboxSubmitHandler(deps: WebDeps): RequestHandler {
  const inboxDir = join(deps.sharedDir, 'inbox');
  return async (req, res) => {
    const body = req.body as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError(400, `Send a JSON object naming a file in the inbox, ${PATH_EXAMPLE}.`);
    }
    const { path: name, ...optionFields } = body as Record<string, unknown>;
    const source = await resolveInboxFile(inboxDir, name);
    const options = parseJobOptions(asFields(optionFields));
    const id = await submitStoredFile(deps, {
      source,
      originalName: basename(source),
      options,
      what: 'this inbox file',
    });
    deps.logger.info({ jobId: id, inbox: name, options }, 'inbox file accepted');
    res.status(200).json({ job_id: id });
  };
}

/**
 * The real path of `name` inside the inbox, refusing anything that could reach another file:
 * absolute paths, `..`, symlinks whose target lies outside, and anything but a regular file.
 */
export async function resolveInboxFile(inboxDir: string, name: unknown): Promise<string> {
  if (typeof name !== 'string' || !name.trim()) {
    throw new HttpError(400, `The field "path" must name a file in the inbox, ${PATH_EXAMPLE}.`);
  }
  if (isAbsolute(name) || name.includes('\0')) {
    throw new HttpError(400, 'The field "path" must be relative to the inbox, not absolute.');
  }
  if (name.split(/[\\/]/).includes('..')) {
    throw new HttpError(400, 'The field "path" must stay inside the inbox: ".." is not allowed.');
  }
  const shown = JSON.stringify(name);
  let inboxReal: string;
  let real: string;
  try {
    inboxReal = await realpath(inboxDir);
    real = await realpath(join(inboxDir, name));
  } catch {
    throw new HttpError(
      404,
      `There is no file ${shown} in the inbox: place it in SHARED_DIR/inbox first.`,
    );
  }
  if (real === inboxReal) {
    throw new HttpError(400, `The inbox path ${shown} is the inbox itself, not a regular file.`);
  }
  if (!real.startsWith(inboxReal + sep)) {
    throw new HttpError(
      400,
      `The inbox path ${shown} leads out of the inbox (a symlink): place the file itself there.`,
    );
  }
  if (!(await stat(real)).isFile()) {
    throw new HttpError(400, `The inbox path ${shown} is not a regular file.`);
  }
  return real;
}
