/**
 * `npm run chaos`: runs every fault drill of DESIGN §9 against its own real local cluster
 * (ZooKeeper + pod processes + front door) with a generated image, checks each result against
 * the single-process CLI, and prints scenario / outcome / recovery time. Exits 1 if any drill
 * broke a guarantee. `npm run chaos -- <id>…` runs only the named drills.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage } from '../common/errors.js';
import { makeFixture, withDrill } from './harness.js';
import { seconds } from './probes.js';
import { SCENARIOS } from './scenarios.js';

const wanted = process.argv.slice(2);
const chosen = wanted.length ? SCENARIOS.filter((s) => wanted.includes(s.id)) : SCENARIOS;
if (chosen.length === 0) {
  console.error(`No such drill; choose from: ${SCENARIOS.map((s) => s.id).join(', ')}.`);
  process.exit(2);
}

const dir = await mkdtemp(join(tmpdir(), 'histeq-chaos-'));
const rows: [string, string, string][] = [];
let failed = 0;
try {
  console.log('generating a 2000×1500 grey TIFF and its single-process result…');
  const fixture = await makeFixture(dir);
  for (const s of chosen) {
    const started = Date.now();
    process.stdout.write(`• ${s.title} … `);
    try {
      const r = await withDrill(fixture, s.options, (drill) => s.run(drill));
      rows.push([s.title, r.outcome, `${r.recoveryLabel} ${seconds(r.recoveryMs)}`]);
      console.log(`ok (${seconds(Date.now() - started)})`);
    } catch (err) {
      failed++;
      rows.push([s.title, `FAILED: ${errorMessage(err)}`, '—']);
      console.log(`FAILED: ${errorMessage(err)}`);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const header: [string, string, string] = ['scenario', 'outcome', 'recovery'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log('');
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of rows) console.log(line(row));
process.exit(failed ? 1 : 0);
