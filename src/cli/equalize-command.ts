import { access, constants, stat } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { HisteqError } from '../common/errors.js';
import { probeImage } from '../imaging/probe.js';
import type { ImageFormat } from '../imaging/image-info.js';
import type { ColourMode } from '../imaging/types.js';
import { checkClaheParams, type ClaheParams } from '../imaging/clahe/grid.js';
import { describeMethod } from '../imaging/clahe/method.js';
import { ImagePool } from '../pool/image-pool.js';
import { equalizeFile } from './equalize-file.js';

export interface EqualizeCommandOptions {
  mode: ColourMode;
  /** Set: CLAHE with these parameters instead of global equalization. */
  clahe?: ClaheParams;
  tasks: number;
  page: number;
  maxPixels: number;
  maxDecodedBytes?: number;
  poolThreads: number;
  /** Draw a progress bar (only on a terminal). */
  progress: boolean;
}

const EXTENSIONS: Record<ImageFormat, string[]> = {
  tiff: ['.tif', '.tiff'],
  png: ['.png'],
  jpeg: ['.jpg', '.jpeg'],
};

/** `histeq equalize IN OUT`: checks the paths, runs the pipeline, prints a one-line summary. */
export async function runEqualizeCommand(
  input: string,
  output: string,
  options: EqualizeCommandOptions,
): Promise<string> {
  await checkPaths(input, output);
  const info = await probeImage(input, {
    page: options.page,
    maxPixels: options.maxPixels,
    maxDecodedBytes: options.maxDecodedBytes,
  });
  if (options.clahe) checkClaheParams(options.clahe, info.layout, options.mode);
  const ext = extname(output).toLowerCase();
  if (ext && !EXTENSIONS[info.format].includes(ext)) {
    throw new HisteqError(
      'BAD_INPUT',
      `The input is ${info.format.toUpperCase()} and the output keeps its format: name the output ${EXTENSIONS[info.format].join(' or ')}, not ${ext}.`,
    );
  }
  const pool = ImagePool.create({ threads: options.poolThreads });
  // Loaded only for a terminal: scripts and pipes do not pay for the progress bar's import.
  const cliProgress = options.progress ? (await import('cli-progress')).default : undefined;
  const bar = cliProgress
    ? new cliProgress.SingleBar(
        {
          format: 'equalizing [{bar}] {percentage}% | {phase}',
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  try {
    const result = await equalizeFile(input, output, {
      ...options,
      info,
      pool,
      onProgress: (done, total, phase) => {
        if (!bar) return;
        if (done === 1) bar.start(total, 0, { phase });
        bar.update(done, { phase });
      },
    });
    const { width, height, channels, depth } = result.info.layout;
    const pixels = width * height;
    const kind = `${['grey', 'grey+alpha', 'RGB', 'RGBA'][channels - 1]} ${depth}-bit ${result.info.format.toUpperCase()}`;
    return (
      `equalized ${input} → ${output} (${describeMethod(options.clahe)}): ${pixels.toLocaleString('en')} pixels (${width}×${height} ${kind}), ` +
      `${result.tasks} task${result.tasks === 1 ? '' : 's'}, ${result.seconds.toFixed(2)} s, ` +
      `${(pixels / 1e6 / result.seconds).toFixed(1)} MP/s`
    );
  } finally {
    bar?.stop();
    await pool.close();
  }
}

async function checkPaths(input: string, output: string): Promise<void> {
  try {
    const s = await stat(input);
    if (!s.isFile()) throw new HisteqError('BAD_INPUT', `${input} is not a file.`);
  } catch (err) {
    if (err instanceof HisteqError) throw err;
    throw new HisteqError('BAD_INPUT', `Cannot read ${input}: no such file.`);
  }
  try {
    await access(dirname(output) || '.', constants.W_OK);
  } catch {
    throw new HisteqError(
      'BAD_INPUT',
      `Cannot write ${output}: the folder does not exist or is not writable.`,
    );
  }
  const ext = extname(output).toLowerCase();
  const known = Object.values(EXTENSIONS).flat();
  if (ext && !known.includes(ext)) {
    throw new HisteqError(
      'BAD_INPUT',
      `The output name ${output} has extension ${ext}; the output keeps the input's format, so use .tif, .png or .jpg to match it.`,
    );
  }
}
