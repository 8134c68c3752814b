#!/usr/bin/env node
/**
 * `histeq`: the command line. `histeq equalize IN OUT` runs the whole pipeline in one process;
 * `histeq demo …` runs the consistency-model demos (src/demos/); later subcommands wire the
 * same parts differently.
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

const program = new Command('histeq')
  .description('Exact histogram equalization of large images, single-process or as a worker array.')
  .showHelpAfterError();

program
  .command('equalize')
  .description('equalize IN into OUT in this process (same computation the cluster distributes)')
  .argument('<in>', 'input image: TIFF, PNG or JPEG (8- or 16-bit, grey, RGB or RGBA)')
  .argument('<out>', 'output path; the output keeps the input format, size and bit depth')
  .addOption(
    new Option('--mode <mode>', 'colour mode').choices(COLOUR_MODES as string[]).default('luma'),
  )
  .option('--tasks <n>', 'number of strips (tasks); default: pool threads', wholeNumber(1))
  .option('--page <n>', 'page of a multi-page TIFF (the first page is 0)', wholeNumber(0), 0)
  .addOption(
    new Option('--method <method>', 'global (one LUT) or clahe (contrast-limited, per tile)')
      .choices(METHODS as string[])
      .default('global'),
  )
  .option('--clip-limit <x>', 'CLAHE clip limit, above 0 (as OpenCV)', '40')
  .option('--tiles <CxR>', 'CLAHE grid: tile columns x rows, 1 to 256 each', '8x8')
  .action(
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

// The demos pull in the ZooKeeper client and friends: `histeq equalize` starts without them.
if (process.argv[2] !== 'equalize') {
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
