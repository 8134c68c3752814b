import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { useTempDir } from '../support/paths.js';

const LAUNCHER = fileURLToPath(new URL('../../src/local/main.js', import.meta.url));
const TOKEN = 'launcher-token-0123456789abcdef';
const tempDir = useTempDir('launcher-');

describe('npm run local', () => {
  it('with API_TOKEN set, says the cluster is up, and the front door requires the token', async () => {
    const child = spawn(process.execPath, [LAUNCHER], {
      env: {
        ...process.env,
        PODS: '2',
        PORT: '0',
        SHARED_DIR: join(tempDir(), 'shared'),
        LOG_DIR: join(tempDir(), 'logs'),
        API_TOKEN: TOKEN,
        POOL_THREADS: '1',
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      const deadline = Date.now() + 60_000;
      while (!/histeq-array is up/.test(out)) {
        assert.ok(Date.now() < deadline, `no "is up" line within 60 s:\n${out.slice(-2000)}`);
        assert.equal(child.exitCode, null, `the launcher exited:\n${out.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = /Open (http:\/\/\S+?)\/ /.exec(out)?.[1];
      assert.ok(url, out);
      assert.equal((await fetch(`${url}/api/cluster`)).status, 401);
      const ok = await fetch(`${url}/api/cluster`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(ok.status, 200);
    } finally {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
      await exited;
      clearTimeout(timer);
    }
  });
});
