import { access, constants, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { HisteqError } from '../common/errors.js';
import type { ClaheParams } from '../imaging/clahe/grid.js';
import type { ColourMode } from '../imaging/types.js';
import { downloadResult, followJob } from './submit-follow.js';
import { checkServer, uploadFile } from './submit-upload.js';

export interface SubmitCommandOptions {
  server: string;
  token?: string;
  mode: ColourMode;
  page: number;
  clahe?: ClaheParams;
  out?: string;
  /** Longest wait for the job to end, in seconds. */
  waitSeconds: number;
  /** Draw progress bars on stderr (only on a terminal). */
  progress: boolean;
}

/** `scan.tif` → `scan.equalized.tif`, beside the input. */
export function defaultOutput(input: string): string {
  const ext = extname(input);
  return join(dirname(input), `${basename(input, ext)}.equalized${ext}`);
}

/**
 * `histeq submit FILE`: uploads to the cluster, follows the job, downloads the result. A failed
 * or cancelled job rejects with the job's own sentence.
 */
export async function runSubmitCommand(input: string, o: SubmitCommandOptions): Promise<string> {
  const server = { url: parseServer(o.server), token: o.token || undefined };
  const out = o.out ?? defaultOutput(input);
  const size = await fileSize(input);
  await access(dirname(out) || '.', constants.W_OK).catch(() => {
    throw new HisteqError(
      'BAD_INPUT',
      `Cannot write ${out}: the folder does not exist or is not writable.`,
    );
  });
  await checkServer(server);
  const started = Date.now();
  const bars = await progressBars(o.progress);
  let id: string;
  try {
    bars?.start(size, 'uploading');
    id = await uploadFile(
      server,
      { path: input, size },
      formFields(o),
      (sent) => bars?.update(sent),
      () => console.error(`histeq: continuing the upload of ${input} that an earlier run left`),
    );
    const final = await followJob(server, id, o.waitSeconds * 1000, (status) => {
      if (status.total > 0) bars?.start(status.total, status.phase, status.done);
    });
    bars?.stop();
    if (final.state !== 'done' || !final.url) {
      throw new HisteqError('TASK_FAILED', `Job ${id} ${final.state}: ${final.error ?? final.msg}`);
    }
    await downloadResult(server, final.url, out);
  } finally {
    bars?.stop();
  }
  return `equalized ${input} → ${out} on ${server.url.origin} (job ${id}, ${((Date.now() - started) / 1000).toFixed(1)} s)`;
}

function parseServer(value: string): URL {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // fall through to the sentence
  }
  throw new HisteqError(
    'BAD_INPUT',
    `--server must be an http(s) URL such as http://localhost:8080, not "${value}".`,
  );
}

async function fileSize(input: string): Promise<number> {
  const s = await stat(input).catch(() => {
    throw new HisteqError('BAD_INPUT', `Cannot read ${input}: no such file.`);
  });
  if (!s.isFile()) throw new HisteqError('BAD_INPUT', `${input} is not a file.`);
  return s.size;
}

/** The upload form's fields (web/upload.ts parseJobOptions reads them). */
function formFields(o: SubmitCommandOptions): Record<string, string> {
  const fields: Record<string, string> = { mode: o.mode, page: String(o.page) };
  if (o.clahe) {
    fields.method = 'clahe';
    fields.clip_limit = String(o.clahe.clipLimit);
    fields.tiles = `${o.clahe.tilesX}x${o.clahe.tilesY}`;
  }
  return fields;
}

/** One bar reused for the upload (bytes) and the job (tasks of the current phase). */
async function progressBars(enabled: boolean) {
  if (!enabled) return undefined;
  const cliProgress = (await import('cli-progress')).default;
  const bar = new cliProgress.SingleBar(
    { format: '{phase} [{bar}] {percentage}%', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  let shown = '';
  return {
    start(total: number, phase: string, value = 0) {
      if (!running || shown !== `${phase}/${total}`) {
        if (running) bar.stop();
        bar.start(total, value, { phase });
        running = true;
        shown = `${phase}/${total}`;
      } else bar.update(value);
    },
    update(value: number) {
      if (running) bar.update(value);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
