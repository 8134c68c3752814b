import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Pod name stamped on every line, so a merged stream still says who spoke. */
  pod: string;
  level?: string;
  /** `json` (default): one JSON object per line. `pretty`: short human-readable lines. */
  format?: 'json' | 'pretty';
  /** Where lines go; defaults to stdout. */
  destination?: NodeJS.WritableStream;
}

/**
 * Structured logs: one JSON event per line with the pod id (and job/task ids via child
 * loggers). `pretty` is a tiny formatter of our own rather than pino-pretty's worker thread,
 * so `kubectl logs -f` stays readable without another process-wide thread.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const stream =
    options.format === 'pretty'
      ? { write: (line: string) => destination.write(prettyLine(line)) }
      : destination;
  return pino(
    {
      level: options.level ?? 'info',
      base: { pod: options.pod },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

/** Renders one JSON log line as `time level [pod] msg key=value…`; passes other text through. */
export function prettyLine(line: string): string {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, pod, msg, ...rest } = event;
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  return `${clock} ${String(level ?? '').padEnd(5)} [${String(pod ?? '')}] ${String(msg ?? '')}${extras ? ' ' + extras : ''}\n`;
}
