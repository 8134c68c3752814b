import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * Starts a program in a process group of its own but in the launcher's session.
 *
 * Own process group: a terminal's Ctrl-C goes to the foreground group, so it reaches the
 * launcher only, which then stops the pods in order (front door, drain, ZooKeeper).
 *
 * Same session: with autogroup scheduling (Linux's default on most distributions,
 * `/proc/sys/kernel/sched_autogroup_enabled`), every session is a scheduling group with an
 * equal share of the CPU, and a thread's nice level only counts inside its group. Node's
 * `detached: true` calls setsid(), which put each pod in a group of its own: a worker whose
 * pool thread (at POOL_NICE) had used its group's share then waited 30–100 ms for the CPU with
 * its event loop. In one session, any pod's event loop at nice 0 comes before every pool
 * thread at nice 10 (README, Performance).
 *
 * Node cannot call setpgid() for a child, so perl does it and execs the program in its place
 * (same pid). perl is part of every Debian (perl-base is Essential) and of macOS; without it
 * the program gets its own session as before.
 */
export function spawnInOwnGroup(
  command: string,
  args: readonly string[],
  options: Omit<SpawnOptions, 'detached'>,
): ChildProcess {
  if (!perlAvailable()) return spawn(command, args, { ...options, detached: true });
  return spawn('perl', ['-e', SETPGID_THEN_EXEC, command, ...args], options);
}

/** True when this launcher can keep children in its session (perl found). */
export function perlAvailable(): boolean {
  perlFound ??= !spawnSync('perl', ['-e', '1'], { stdio: 'ignore' }).error;
  return perlFound;
}

// `exec {$ARGV[0]} @ARGV` runs the program by its path without a shell, keeping argv intact.
const SETPGID_THEN_EXEC =
  'setpgrp(0, 0) or die "setpgid: $!\\n"; exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\\n";';

let perlFound: boolean | undefined;
