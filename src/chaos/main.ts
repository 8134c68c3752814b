/**
 * `npm run chaos`: runs every fault drill against its own real local cluster (ZooKeeper + pod
 * processes + front door) with a generated image, checks each result against the
 * single-process CLI, and prints scenario / outcome / recovery time. Exits 1 if any drill
 * broke a guarantee. `npm run chaos -- <id>…` runs only the named drills;
 * `npm run chaos -- --soak SECONDS [--seed N]` runs the randomized soak instead (soak/).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { errorMessage } from '../common/errors.js';
import { makeFixture, withDrill } from './harness.js';
import { seconds } from './probes.js';
import { SCENARIOS } from './scenarios.js';
import { soakCommand } from './soak/soak-command.js';

const program = new Command('chaos')
  .argument('[drills...]', 'drills to run (default: all)')
  .option('--soak <seconds>', 'run the randomized soak for this long instead of the drills', whole)
  .option('--seed <n>', "the soak's seed (default: random, printed)", whole)
  .option('--pods <n>', 'pods in the soak cluster', whole, 5)
  .option('--megapixels <n>', "size of the soak's largest image", Number, 4)
  .option('--concurrency <n>', 'soak jobs in flight at once', whole, 3)
  .parse();
const opts = program.opts<{
  soak?: number;
  seed?: number;
  pods: number;
  megapixels: number;
  concurrency: number;
}>();
if (opts.soak !== undefined) {
  const report = await soakCommand({
    seconds: opts.soak,
    seed: opts.seed ?? Math.floor(Math.random() * 2 ** 31),
    pods: opts.pods,
    megapixels: opts.megapixels,
    concurrency: opts.concurrency,
  });
  process.exit(report.problems.length === 0 ? 0 : 1);
}

function whole(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
}

const wanted = program.args;
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
  const needsLzw = chosen.some((s) => s.image === 'lzw');
  if (needsLzw) console.log('and the same image as an LZW TIFF, for the drills of its assembly…');
  const lzw = needsLzw
    ? await makeFixture(join(dir, 'lzw'), undefined, undefined, {
        compression: 'lzw',
        predictor: 'horizontal',
      })
    : null;
  for (const s of chosen) {
    const started = Date.now();
    process.stdout.write(`• ${s.title} … `);
    try {
      const image = s.image === 'lzw' ? lzw! : fixture;
      const r = await withDrill(image, s.options, (drill) => s.run(drill));
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
