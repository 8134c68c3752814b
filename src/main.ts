/**
 * A pod process: load and validate configuration, start the pod, stop it gracefully on
 * SIGTERM/SIGINT. Everything else lives in the folders this only wires together.
 */
import { createLogger } from './common/log.js';
import { errorMessage } from './common/errors.js';
import { loadConfig } from './config.js';
import { Pod } from './pod/pod.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  console.error(`histeq: ${errorMessage(err)}`);
  process.exit(2);
}
const log = createLogger({ pod: config.pod, level: config.logLevel, format: config.logFormat });

process.on('unhandledRejection', (err) => {
  log.error({ err: errorMessage(err) }, 'unhandled rejection');
});

let pod: Pod;
try {
  pod = await Pod.start(config, log);
} catch (err) {
  log.fatal({ err: errorMessage(err) }, 'pod could not start');
  process.exit(1);
}

let signals = 0;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (++signals > 1) process.exit(1); // a second signal: stop waiting
    pod
      .stop(config.drainTimeoutMs)
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err: errorMessage(err) }, 'unclean stop');
        process.exit(1);
      });
  });
}
