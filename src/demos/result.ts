/**
 * What every demo reports. Exit codes are part of the contract so scripts and tests can tell a
 * broken guarantee from a demo that could not run at all.
 */
export type DemoName = 'eventual' | 'primary-backup' | 'quorum';

export const EXIT_CODES = {
  /** The guarantee held (a correctly refused write counts). */
  held: 0,
  /** The guarantee was violated (e.g. a quorum read returned a stale value). */
  violated: 1,
  /** The demo could not run: bad flags, ZooKeeper unreachable, another run in progress. */
  couldNotRun: 2,
} as const;

/** The fields every demo's result starts with; each demo adds its own details. */
export interface DemoReport {
  demo: DemoName;
  /** True when the guarantee held; decides the exit code. */
  ok: boolean;
  /** The guarantee under test, in one sentence. */
  guarantee: string;
  /** What happened, in one sentence. */
  verdict: string;
}

/** Where the demo ran; added by the command around every report. */
export interface DemoEnvironment {
  zookeeper: { connectionString: string; temporary: boolean };
  elapsedMs: number;
}

/** A demo that could not run, as `--json` prints it. */
export interface DemoFailure {
  demo: DemoName;
  ok: false;
  error: string;
  code: string | undefined;
}
