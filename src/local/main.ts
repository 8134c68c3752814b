/**
 * `npm run local`: a real ZooKeeper, PODS identical pod processes and a front door on PORT
 * that follows the master. Ctrl-C or SIGTERM stops everything it started.
 */
import { errorCode, errorMessage } from '../common/errors.js';
import { createLogger } from '../common/log.js';
import { LocalCluster } from './local-cluster.js';
import { loadLocalConfig } from './local-config.js';

/** How long to wait before reminding the user where the logs are, while no master serves. */
const HINT_AFTER_MS = 60_000;
/** Reminders before the launcher gives up and stops what it started. */
const MAX_HINTS = 10;

async function main(): Promise<void> {
  const config = loadLocalConfig();
  const logger = createLogger({ pod: 'local', format: 'pretty' });
  const cluster = await LocalCluster.start({
    pods: config.pods,
    port: config.port,
    zkHosts: config.zkHosts,
    sharedDir: config.sharedDir,
    logDir: config.logDir,
    apiToken: config.apiToken,
    logger,
  }).catch((err: unknown) => {
    // The most common first-run failure: another program (or another cluster) has the port.
    if ((err as NodeJS.ErrnoException | null)?.code === 'EADDRINUSE') {
      throw new Error(
        `port ${config.port} is already in use; pick another one, e.g. PORT=${config.port + 1} npm run local`,
        { cause: err },
      );
    }
    throw err;
  });

  let stopping = false;
  let firstSignalAt = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    // One Ctrl-C can arrive twice (to the process and to its group, e.g. under `timeout`).
    if (stopping && Date.now() - firstSignalAt < 1_000) return;
    if (stopping) {
      // A second Ctrl-C: the exit handler SIGKILLs what is left.
      process.stderr.write(`\n${signal} again: killing everything now.\n`);
      process.exit(1);
    }
    stopping = true;
    firstSignalAt = Date.now();
    process.stderr.write(`\n${signal}: stopping the local cluster…\n`);
    cluster.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`could not stop cleanly: ${errorMessage(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  const url = cluster.frontDoorUrl.replace('://127.0.0.1:', '://localhost:');
  for (let hints = 0; ; hints++) {
    try {
      const master = await cluster.waitForMaster(HINT_AFTER_MS);
      if (stopping) return;
      process.stdout.write(
        `\n  histeq-array is up: ${config.pods} pods, master ${master.pod}, ZooKeeper ${cluster.zkHosts}\n` +
          `  Open ${url}/ — pod logs in ${cluster.logDir}, Ctrl-C stops everything.\n\n`,
      );
      return;
    } catch (err) {
      if (stopping) return;
      if (errorCode(err) === 'BAD_CONFIG' || hints + 1 >= MAX_HINTS) {
        process.stderr.write(`histeq-array local: ${errorMessage(err)}\n`);
        stopping = true;
        await cluster.stop().catch(() => undefined);
        process.exit(1);
      }
      process.stdout.write(
        `\n  Still no master after ${HINT_AFTER_MS / 1000} s; see the pod logs in ${cluster.logDir}.\n\n`,
      );
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`histeq-array local: ${errorMessage(err)}\n`);
  process.exit(1);
});
