import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/common/log.js';

/** A real pino logger whose JSON lines are kept for assertions. */
export function captureLogger(): {
  logger: Logger;
  events: () => Array<Record<string, unknown>>;
} {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = createLogger({ pod: 'test', level: 'debug', destination });
  return { logger, events: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
