import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

/** The front door's port when PORT is not set (src/local/local-config.ts). */
export const DEFAULT_PORT = 8080;

/** The launcher's own settings: a newcomer sets none of them. */
const LAUNCHER_VARIABLES = ['PORT', 'PODS', 'ZK_HOSTS', 'SHARED_DIR', 'LOG_DIR'];

export interface Quickstart {
  /** The URL the launcher printed ("Open http://localhost:…/"). */
  url: string;
  /** The copy's root; its default SHARED_DIR is `<root>/.local/shared`. */
  root: string;
  sharedDir: string;
  /** Why the default port was not used, when it was not. */
  portNote: string | null;
  output(): string;
  /** Ctrl-C, as a user stops it; resolves with the launcher's exit code (bounded). */
  stop(): Promise<number | null>;
}

/**
 * `npm run local` as someone who just cloned the project runs it: the launcher's entry point
 * with none of its variables set. It runs from a copy of the built tree in a temporary folder
 * (dist/ copied, node_modules/ and public/ linked), because the launcher places its default
 * SHARED_DIR next to its own code: so the default is exercised — `.local/shared`, a dot folder
 * as in a clone — without touching the `.local/` of a developer's own `npm run local`.
 */
export async function startQuickstart(timeoutMs = 90_000): Promise<Quickstart> {
  const tmp = await mkdtemp(join(tmpdir(), 'histeq-quickstart-'));
  const root = join(tmp, 'histeq-array');
  try {
    await cp(join(REPO_ROOT, 'dist'), join(root, 'dist'), { recursive: true });
    await cp(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
    await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
    await symlink(join(REPO_ROOT, 'public'), join(root, 'public'));
    let portNote = (await portIsFree(DEFAULT_PORT))
      ? null
      : `port ${DEFAULT_PORT} is in use on this machine (another cluster or program), so PORT=0 picks a free one as the README says`;
    let launched = await launch(root, portNote === null ? {} : { PORT: '0' }, timeoutMs);
    if (!launched.ok && portNote === null && /already in use/.test(launched.output())) {
      // Taken between the check and the launcher's listen.
      portNote = `port ${DEFAULT_PORT} was taken while the launcher started, so PORT=0`;
      launched = await launch(root, { PORT: '0' }, timeoutMs);
    }
    if (!launched.ok) throw new Error(`npm run local did not come up:\n${launched.output()}`);
    const { child, url, output } = launched;
    return {
      url,
      root,
      sharedDir: join(root, '.local', 'shared'),
      portNote,
      output,
      async stop() {
        const code = await stopChild(child);
        await rm(tmp, { recursive: true, force: true });
        return code;
      },
    };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

type Launch =
  | { ok: true; child: ChildProcess; url: string; output: () => string }
  | { ok: false; output: () => string };

async function launch(root: string, extra: Record<string, string>, timeoutMs: number) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of LAUNCHER_VARIABLES) if (!(name in extra)) delete env[name];
  const child = spawn(process.execPath, [join(root, 'dist/src/local/main.js')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const output = () => text;
  child.stdout!.on('data', (d: Buffer) => (text += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString('utf8')));
  return new Promise<Launch>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ ok: false, output: () => `${text}\n(no master within ${timeoutMs} ms)` });
    }, timeoutMs);
    const onData = () => {
      const url = /Open (http:\/\/localhost:\d+)\//.exec(text)?.[1];
      if (!url) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve({ ok: true, child, url, output });
    };
    const onExit = () => {
      clearTimeout(timer);
      resolve({ ok: false, output });
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess, timeoutMs = 40_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the front door could listen on `port` of the loopback address it uses. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
