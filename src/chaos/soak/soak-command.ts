import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Drill } from '../harness.js';
import { seconds } from '../probes.js';
import { makeJobMix } from './job-mix.js';
import { runSoak, type SoakReport } from './soak.js';

export interface SoakCommandOptions {
  seconds: number;
  seed: number;
  pods: number;
  megapixels: number;
  concurrency: number;
  log?: (line: string) => void;
}

/**
 * `npm run chaos -- --soak SECONDS [--seed N]`: a fresh local cluster, the job mix, and the
 * seeded schedule of jobs and faults. Prints the seed first, so any run can be replayed.
 */
export async function soakCommand(o: SoakCommandOptions): Promise<SoakReport> {
  const log = o.log ?? ((line: string) => console.log(line));
  log(`soak: seed ${o.seed} (replay with --seed ${o.seed}), ${o.seconds} s, ${o.pods} pods`);
  const dir = await mkdtemp(join(tmpdir(), 'histeq-soak-'));
  try {
    const mix = await makeJobMix(dir, o.megapixels);
    log(`job mix: ${mix.map((j) => j.label).join(', ')}`);
    const first = mix[0]!;
    const drill = await Drill.start(
      { name: first.name, bytes: first.bytes, expected: Buffer.alloc(0) },
      // One client address sends every upload: the per-address limit would refuse most.
      { pods: o.pods, env: { UPLOAD_RATE_PER_MINUTE: '0' } },
    );
    try {
      const startedAt = Date.now();
      const report = await runSoak(drill, mix, {
        seconds: o.seconds,
        seed: o.seed,
        concurrency: o.concurrency,
        log: (line) => log(`  ${seconds(Date.now() - startedAt)}  ${line}`),
      });
      log(
        `soak: ${report.accepted} jobs accepted, ${report.exact} exact, ${report.refused} uploads ` +
          `refused with an answer, ${report.kills} pods killed, ${report.zkRestarts} ZooKeeper ` +
          `restart(s), slowest job ${seconds(report.slowestJobMs)}`,
      );
      for (const p of report.problems) log(`PROBLEM: ${p}`);
      log(report.problems.length === 0 ? 'soak passed' : `soak FAILED (seed ${o.seed})`);
      return report;
    } finally {
      await drill.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
