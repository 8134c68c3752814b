import { Writable, type Readable } from 'node:stream';
import { ApiException, Log, type KubeConfig, type LogOptions } from '@kubernetes/client-node';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import {
  LineSplitter,
  type FollowOptions,
  type LineHandler,
  type LogSource,
  type StopFollowing,
} from './log-source.js';

export interface KubeLogSourceOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Container to read; '' (default) lets the API server pick a pod's only container. */
  container?: string;
  logger: Logger;
  /** First reconnect delay (default 250 ms); doubles while reconnects bring nothing new. */
  minReconnectDelayMs?: number;
  /** Cap on the reconnect delay (default 5000 ms). */
  maxReconnectDelayMs?: number;
}

/**
 * Pod logs through `GET .../pods/<pod>/log?follow=true`. Such streams end without warning
 * (API server timeouts, container restarts, proxies), so each follower reconnects with
 * backoff, asking for `sinceTime` of the last line it delivered. `sinceTime` has one-second
 * resolution, so the overlap is removed by comparing the per-line timestamps the API adds
 * with `timestamps=true`.
 */
export class KubeLogSource implements LogSource {
  private readonly log: Log;

  constructor(private readonly options: KubeLogSourceOptions) {
    this.log = new Log(options.kubeConfig);
  }

  follow(pod: string, onLine: LineHandler, options: FollowOptions = {}): StopFollowing {
    const follower = new KubeLogFollower(this.log, this.options, pod, onLine, options);
    follower.start();
    return () => follower.stop();
  }
}

/** Position in the log: the newest timestamp delivered and how many lines carried it. */
interface Cursor {
  key: bigint;
  count: number;
}

class KubeLogFollower {
  private readonly logger: Logger;
  private stopped = false;
  private cursor: Cursor | null = null;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private controller: AbortController | undefined;
  private connection = 0;

  constructor(
    private readonly log: Log,
    private readonly options: KubeLogSourceOptions,
    private readonly pod: string,
    private readonly onLine: LineHandler,
    private readonly follow: FollowOptions,
  ) {
    this.logger = options.logger.child({ component: 'kube-log-source', followedPod: pod });
    if (!follow.backlogLines) {
      // "Only new lines": start the cursor at now, so the overlap rule drops older lines.
      this.cursor = { key: BigInt(Date.now()) * 1_000_000n, count: 0 };
    }
  }

  start(): void {
    void this.connect();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.controller?.abort();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const id = ++this.connection;
    const splitter = new LineSplitter();
    const state = { delivered: 0, ended: false, skip: this.cursor?.count ?? 0 };
    const end = (reason: string, err?: unknown): void => {
      if (state.ended || id !== this.connection) return;
      state.ended = true;
      splitter.reset(); // a cut-off line comes back whole after reconnecting
      this.scheduleReconnect(state.delivered > 0, reason, err);
    };
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        for (const line of splitter.push(chunk)) {
          if (this.deliver(line, state)) state.delivered++;
        }
        callback();
      },
    });
    // client-node pipes the response into `sink` but never listens for errors on the
    // response itself: an abort or a reset connection would otherwise be an uncaught error.
    sink.on('pipe', (src: Readable) => {
      src.on('error', (err) => end('error', err));
      src.on('close', () => end('closed'));
    });
    sink.on('finish', () => end('ended'));
    sink.on('error', (err) => end('error', err));

    const request: LogOptions = { follow: true, timestamps: true };
    if (this.cursor) request.sinceTime = sinceTimeOf(this.cursor.key);
    else request.tailLines = this.follow.backlogLines;
    try {
      const controller = await this.log.log(
        this.options.namespace,
        this.pod,
        this.options.container ?? '',
        sink,
        request,
      );
      this.controller = controller;
      if (this.stopped) controller.abort();
      else if (this.failures > 0) this.logger.info('pod log stream reconnected');
    } catch (err) {
      end('request failed', err);
    }
  }

  /** Applies the overlap rule; returns true when the line was new and handed on. */
  private deliver(raw: string, state: { skip: number }): boolean {
    if (this.stopped) return false;
    const space = raw.indexOf(' ');
    const key = space > 0 ? timestampKey(raw.slice(0, space)) : undefined;
    if (key === undefined) {
      this.emit(raw); // no timestamp to dedupe on; better shown than lost
      return true;
    }
    const cursor = this.cursor;
    if (cursor && key < cursor.key) return false;
    if (cursor && key === cursor.key) {
      if (state.skip > 0) {
        state.skip--;
        return false;
      }
      cursor.count++;
    } else {
      this.cursor = { key, count: 1 };
      state.skip = 0;
    }
    this.emit(raw.slice(space + 1));
    return true;
  }

  private emit(line: string): void {
    try {
      this.onLine(line);
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'log line handler threw; line dropped');
    }
  }

  private scheduleReconnect(progressed: boolean, reason: string, err?: unknown): void {
    if (this.stopped) return;
    this.failures = progressed ? 0 : this.failures + 1;
    const min = this.options.minReconnectDelayMs ?? 250;
    const max = this.options.maxReconnectDelayMs ?? 5000;
    const delay = Math.min(max, min * 2 ** Math.min(this.failures, 10));
    const status = err instanceof ApiException ? err.code : undefined;
    if (status === 403 && this.failures === 1) {
      this.logger.error(
        { status, namespace: this.options.namespace },
        `Kubernetes RBAC denied: this pod's ServiceAccount may not get pods/log in namespace ` +
          `"${this.options.namespace}"; grant pods/log get in its Role (k8s/rbac.yaml)`,
      );
    } else if (err !== undefined && this.failures === 1) {
      this.logger.warn({ reason, status, err: errorMessage(err) }, 'pod log stream failed');
    } else {
      this.logger.debug({ reason, retryInMs: delay }, 'pod log stream ended, reconnecting');
    }
    this.timer = setTimeout(() => void this.connect(), delay);
  }
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * RFC 3339 timestamp → nanoseconds since the epoch. Compared as numbers, not strings: Go's
 * RFC3339Nano trims trailing zeros, so "…:05.1Z" sorts after "…:05.123Z" as text.
 */
export function timestampKey(text: string): bigint | undefined {
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  const nanos = BigInt((match[2] ?? '').padEnd(9, '0'));
  return BigInt(seconds / 1000) * 1_000_000_000n + nanos;
}

/** Whole-second RFC 3339 time at or before `key`, the resolution `sinceTime` honours. */
function sinceTimeOf(key: bigint): string {
  const seconds = Number(key / 1_000_000_000n);
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
