/**
 * Live pod logs for the web UI (`node_log {pod, log}`), behind one interface so the web layer
 * does not know whether lines come from the Kubernetes API or from local log files.
 */
export type LineHandler = (line: string) => void;

/** Stops following; idempotent, and no `onLine` call happens after it returns. */
export type StopFollowing = () => void;

export interface FollowOptions {
  /**
   * How many lines written before the call to deliver first (default 0: only new lines).
   * Lets a browser that connects late see some context.
   */
  backlogLines?: number;
}

export interface LogSource {
  /**
   * Follows one pod's log, line by line (without the trailing newline), surviving dropped
   * connections, container restarts and log files that appear late or are truncated. Each line
   * is delivered at most once. Problems are logged by the source, never thrown at the caller.
   */
  follow(pod: string, onLine: LineHandler, options?: FollowOptions): StopFollowing;
}

/**
 * Splits a byte stream into lines across chunk boundaries (a chunk may end mid-line or even
 * mid-character). An unterminated tail is held back until its newline arrives.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private partial = '';

  /** Feeds bytes; returns the complete lines they finish. */
  push(chunk: Uint8Array): string[] {
    const text = this.partial + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  /** Drops a held-back partial line (the stream it came from is gone). */
  reset(): void {
    this.partial = '';
    this.decoder.decode(); // flush the decoder's internal state
  }
}
