/**
 * `histeq demo eventual|primary-backup|quorum`: teaching demos against the cluster's ZooKeeper
 * (ZK_HOSTS), or a temporary one when ZK_HOSTS is unset. Exit codes: 0 the guarantee held,
 * 1 it was violated, 2 the demo could not run.
 */
import { randomInt } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { errorCode, errorMessage } from '../common/errors.js';
import { loadConfig } from '../config.js';
import { EVENTUAL_DEFAULTS, runEventual } from '../demos/eventual.js';
import { Narrator } from '../demos/narration.js';
import { PRIMARY_BACKUP_DEFAULTS, runPrimaryBackup } from '../demos/primary-backup.js';
import { QUORUM_DEFAULTS, runQuorum, validateQuorumOptions } from '../demos/quorum.js';
import { EXIT_CODES, type DemoFailure, type DemoName, type DemoReport } from '../demos/result.js';
import { DemoRuntime } from '../demos/runtime.js';

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected a whole number from ${min} to ${max}, got "${value}".`,
      );
    }
    return n;
  };
}

const JSON_HELP = 'print one JSON result on stdout (the narration goes to stderr)';

export function registerDemoCommands(program: Command): void {
  const demo = program
    .command('demo')
    .description(
      'consistency-model demos on ZooKeeper (exit 0: guarantee held, 1: violated, 2: could not run)',
    )
    // Bad flags are "could not run" (2), not "violated" (1).
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_CODES.couldNotRun));

  demo
    .command('eventual')
    .description(
      'eventual consistency: watchers of /config/mapreduce_params converge to the last write',
    )
    .option(
      '--watchers <k>',
      'watchers, each with its own session',
      wholeNumber(1, 50),
      EVENTUAL_DEFAULTS.watchers,
    )
    .option(
      '--writes <k>',
      'rapid writes back to back',
      wholeNumber(1, 1000),
      EVENTUAL_DEFAULTS.writes,
    )
    .option(
      '--tasks-per-job <n>',
      'tasks_per_job of the first write (default: current + 1)',
      wholeNumber(1, 1_000_000),
    )
    .option(
      '--timeout-ms <ms>',
      'how long caches may take to converge',
      wholeNumber(100, 600_000),
      EVENTUAL_DEFAULTS.timeoutMs,
    )
    .option('--json', JSON_HELP, false)
    .action(
      (opts: {
        watchers: number;
        writes: number;
        tasksPerJob?: number;
        timeoutMs: number;
        json: boolean;
      }) => runDemo('eventual', opts.json, (rt) => runEventual(rt, opts)),
    );

  demo
    .command('primary-backup')
    .description('synchronous primary-backup: a write counts only once the backup acknowledged it')
    .option('--backup-down', 'run without the backup: the primary times out and rolls back', false)
    .option(
      '--timeout-ms <ms>',
      'how long the primary waits for the ack',
      wholeNumber(1, 600_000),
      PRIMARY_BACKUP_DEFAULTS.timeoutMs,
    )
    .option('--json', JSON_HELP, false)
    .action((opts: { backupDown: boolean; timeoutMs: number; json: boolean }) =>
      runDemo('primary-backup', opts.json, (rt) => runPrimaryBackup(rt, opts)),
    );

  demo
    .command('quorum')
    .description("Gifford's N-W-R quorum replication with versions and read repair")
    .option('--n <n>', 'replicas', wholeNumber(1, 1000), QUORUM_DEFAULTS.n)
    .option('--w <w>', 'write quorum', wholeNumber(0, 1000), QUORUM_DEFAULTS.w)
    .option('--r <r>', 'read quorum', wholeNumber(0, 1000), QUORUM_DEFAULTS.r)
    .option(
      '--down <k>',
      'replicas taken offline before the write',
      wholeNumber(0, 1000),
      QUORUM_DEFAULTS.down,
    )
    .option(
      '--seed <n>',
      'seed of the random read set (default: random)',
      wholeNumber(0, 2 ** 31 - 1),
    )
    .option('--value <text>', 'the value to write', QUORUM_DEFAULTS.value)
    .option('--json', JSON_HELP, false)
    .action(
      (opts: {
        n: number;
        w: number;
        r: number;
        down: number;
        seed?: number;
        value: string;
        json: boolean;
      }) => {
        const options = { ...opts, seed: opts.seed ?? randomInt(2 ** 31 - 1) };
        return runDemo(
          'quorum',
          opts.json,
          (rt) => runQuorum(rt, options),
          () => validateQuorumOptions(options),
        );
      },
    );
}

/**
 * Runs one demo: validates, connects (or starts a temporary ZooKeeper), narrates, prints the
 * result, sets the exit code, and cleans up even on Ctrl-C.
 */
async function runDemo(
  name: DemoName,
  json: boolean,
  body: (rt: DemoRuntime) => Promise<DemoReport>,
  validate: () => void = () => {},
): Promise<void> {
  const narrator = new Narrator(json ? process.stderr : process.stdout);
  let runtime: DemoRuntime | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    narrator.warn('demo', `${signal}: cleaning up before exiting`);
    void (runtime?.close() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    validate();
    const config = loadConfig();
    runtime = await DemoRuntime.start({
      demo: name,
      zkHosts: config.zkHostsGiven ? config.zkHosts : undefined,
      sessionTimeoutMs: config.zkSessionTimeoutMs,
      ...(config.zkAuth ? { zkAuth: config.zkAuth } : {}),
      narrator,
    });
    const report = await body(runtime);
    await runtime.close();
    const environment = {
      zookeeper: {
        connectionString: runtime.connectionString,
        temporary: runtime.temporaryZooKeeper,
      },
      elapsedMs: narrator.elapsedMs(),
    };
    if (json) process.stdout.write(JSON.stringify({ ...report, ...environment }) + '\n');
    process.exitCode = report.ok ? EXIT_CODES.held : EXIT_CODES.violated;
  } catch (err) {
    await runtime?.close();
    const failure: DemoFailure = {
      demo: name,
      ok: false,
      error: errorMessage(err),
      code: errorCode(err),
    };
    if (json) process.stdout.write(JSON.stringify(failure) + '\n');
    console.error(`histeq demo ${name}: ${failure.error}`);
    process.exitCode = EXIT_CODES.couldNotRun;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}
