#!/usr/bin/env node
/**
 * `histeq`: the command line. `histeq equalize IN OUT` runs the whole pipeline in one process;
 * `histeq submit FILE` sends a file to a running cluster; `histeq demo …` runs the
 * consistency-model demos (src/demos/).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { errorCode, errorMessage } from '../common/errors.js';
import { loadConfig } from '../config.js';
import { COLOUR_MODES, type ColourMode } from '../imaging/types.js';
import { METHODS, parseMethod } from '../imaging/clahe/method.js';

function wholeNumber(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected a whole number ≥ ${min}, got "${value}".`);
    }
    return n;
  };
}

/** The job's options, the same for a run in this process and for one sent to a cluster. */
function addJobOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--mode <mode>', 'colour mode').choices(COLOUR_MODES as string[]).default('luma'),
    )
    .option('--page <n>', 'page of a multi-page TIFF (the first page is 0)', wholeNumber(0), 0)
    .addOption(
      new Option('--method <method>', 'global (one LUT) or clahe (contrast-limited, per tile)')
        .choices(METHODS as string[])
        .default('global'),
    )
    .option('--clip-limit <x>', 'CLAHE clip limit, above 0 (as OpenCV)', '40')
    .option('--tiles <CxR>', 'CLAHE grid: tile columns x rows, 1 to 256 each', '8x8');
}

const program = new Command('histeq')
  .description('Exact histogram equalization of large images, single-process or as a worker array.')
  .showHelpAfterError();

addJobOptions(
  program
    .command('equalize')
    .description('equalize IN into OUT in this process (same computation the cluster distributes)')
    .argument('<in>', 'input image: TIFF, PNG or JPEG (8- or 16-bit, grey, RGB or RGBA)')
    .argument('<out>', 'output path; the output keeps the input format, size and bit depth')
    .option('--tasks <n>', 'number of strips (tasks); default: pool threads', wholeNumber(1)),
).action(
  async (
    input: string,
    output: string,
    opts: {
      mode: ColourMode;
      tasks?: number;
      page: number;
      method: string;
      clipLimit: string;
      tiles: string;
    },
  ) => {
    const clahe = parseMethod(opts);
    const config = loadConfig();
    // Loaded on use: sharp and piscina cost start-up time other subcommands need not pay.
    const { runEqualizeCommand } = await import('./equalize-command.js');
    const summary = await runEqualizeCommand(input, output, {
      mode: opts.mode,
      ...(clahe ? { clahe } : {}),
      tasks: opts.tasks ?? config.poolThreads,
      page: opts.page,
      maxPixels: config.maxPixels,
      maxDecodedBytes: config.maxDecodedBytes,
      poolThreads: config.poolThreads,
      progress: Boolean(process.stderr.isTTY),
    });
    console.log(summary);
  },
);

addJobOptions(
  program
    .command('submit')
    .description('send FILE to a running cluster, follow the job and download the result')
    .argument('<file>', 'input image: TIFF, PNG or JPEG')
    .option('--server <url>', "the cluster's front door", 'http://localhost:8080')
    .option('--token <token>', 'API token of the cluster (default: API_TOKEN)')
    .option('--out <path>', 'where the result goes (default: beside FILE, NAME.equalized.EXT)')
    .option('--wait <seconds>', 'longest wait for the job to end', wholeNumber(1), 3600),
).action(
  async (
    file: string,
    opts: {
      server: string;
      token?: string;
      mode: ColourMode;
      page: number;
      method: string;
      clipLimit: string;
      tiles: string;
      out?: string;
      wait: number;
    },
  ) => {
    const clahe = parseMethod(opts);
    const { runSubmitCommand } = await import('./submit-command.js');
    const summary = await runSubmitCommand(file, {
      server: opts.server,
      token: opts.token ?? process.env.API_TOKEN,
      mode: opts.mode,
      page: opts.page,
      ...(clahe ? { clahe } : {}),
      ...(opts.out ? { out: opts.out } : {}),
      waitSeconds: opts.wait,
      progress: Boolean(process.stderr.isTTY),
    });
    console.log(summary);
  },
);

// The demos pull in the ZooKeeper client and friends: `histeq equalize` starts without them.
if (!['equalize', 'submit'].includes(process.argv[2] ?? '')) {
  const { registerDemoCommands } = await import('./demo-command.js');
  registerDemoCommands(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // One sentence, never a stack trace: errors users can cause carry a code and a message.
  const known = errorCode(err) !== undefined;
  console.error(`histeq: ${known ? '' : 'unexpected error: '}${errorMessage(err)}`);
  process.exitCode = 1;
}
