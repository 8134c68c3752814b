import { performance } from 'node:perf_hooks';

/**
 * Step-by-step narration: one readable line per event, stamped with the time since the demo
 * started, so a reader sees both the order of events and how long each took. A null output
 * suppresses it (nothing is buffered).
 */
export class Narrator {
  readonly #out: NodeJS.WritableStream | null;
  readonly #startedAt = performance.now();

  constructor(out: NodeJS.WritableStream | null) {
    this.#out = out;
  }

  /** Milliseconds since the narrator was made, for timings in results as well as in lines. */
  elapsedMs(): number {
    return round(performance.now() - this.#startedAt);
  }

  /** `actor` says who acts (writer, watcher-2, replica_3…), so interleaved steps stay readable. */
  say(actor: string, text: string): void {
    if (!this.#out) return;
    const stamp = `${this.elapsedMs().toFixed(1).padStart(8)} ms`;
    this.#out.write(`${stamp}  ${actor.padEnd(11)} ${text}\n`);
  }

  good(actor: string, text: string): void {
    this.say(actor, `✓ ${text}`);
  }

  bad(actor: string, text: string): void {
    this.say(actor, `✗ ${text}`);
  }

  warn(actor: string, text: string): void {
    this.say(actor, `⚠ ${text}`);
  }

  /** A blank line and a heading between the phases of a demo. */
  phase(title: string): void {
    this.#out?.write(`\n── ${title}\n`);
  }
}

/** Milliseconds to one decimal: enough to compare, short enough to read. */
export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Milliseconds elapsed since a `performance.now()` reading, rounded. */
export function since(startedAt: number): number {
  return round(performance.now() - startedAt);
}
