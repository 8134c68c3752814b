import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { spawnInOwnGroup } from '../../src/local/own-group.js';
import { groupAndSession } from '../support/procfs.js';

// Prints what the child sees of itself once its SIGTERM handler is in place.
const REPORT = `
process.on('SIGTERM', () => process.exit(7));
const stat = require('node:fs').readFileSync('/proc/self/stat', 'utf8');
const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
console.log(JSON.stringify({ pid: process.pid, pgid: +f[2], sid: +f[3], argv: process.argv.slice(1) }));
setInterval(() => {}, 1000);
`;

describe('spawnInOwnGroup', () => {
  it('runs the program in its own process group, in our session, with the same pid and argv', async () => {
    const args = ['a b', '$HOME', "it's", '', '--flag=1'];
    const child = spawnInOwnGroup(process.execPath, ['-e', REPORT, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      const seen = JSON.parse(String(line)) as {
        pid: number;
        pgid: number;
        sid: number;
        argv: string[];
      };
      assert.equal(
        seen.pid,
        child.pid,
        'perl execs the program in place: the pid we hold is its pid',
      );
      assert.equal(seen.pgid, child.pid, 'a process group of its own (Ctrl-C misses it)');
      assert.equal(seen.sid, groupAndSession('self').sid, 'our session: one CPU group with us');
      assert.deepEqual(seen.argv, args);
      // Signals reach the program itself, not a wrapper.
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 7);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
