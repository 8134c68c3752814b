import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI } from './paths.js';

const exec = promisify(execFile);

/**
 * Runs the compiled `histeq` with `args` (bounded) and returns its exit code and output. The run
 * chooses its token itself: none leaks in from the shell that runs the tests.
 */
export async function runHisteq(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 90_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const inherited = { ...process.env };
  delete inherited.API_TOKEN;
  try {
    const { stdout, stderr } = await exec('node', [CLI, ...args], {
      env: { ...inherited, ...env },
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
