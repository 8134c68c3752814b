/**
 * `npm run bench`: measures and prints; nothing here asserts. Images are generated once under
 * bench-results/images (ignored by git); figures are written to bench-results/bench.json.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureImage, type BenchImage } from './images.js';
import { benchClahe } from './clahe.js';
import { benchCluster, type ClusterFigures } from './cluster.js';
import { benchKernels } from './kernels.js';
import { cpuTimes, formatSteal, stealShare } from './machine.js';
import { fmt, repeat } from './stats.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = `${ROOT}bench-results`;
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const CLI_IMAGES: BenchImage[] = [
  { name: 'grey8-16mp', width: 4000, height: 4000, channels: 1, depth: 8, compression: 'none' },
  { name: 'grey8-64mp', width: 8000, height: 8000, channels: 1, depth: 8, compression: 'none' },
  { name: 'grey8-144mp', width: 12000, height: 12000, channels: 1, depth: 8, compression: 'none' },
  { name: 'grey8-64mp-lzw', width: 8000, height: 8000, channels: 1, depth: 8, compression: 'lzw' },
  { name: 'grey16-16mp', width: 4000, height: 4000, channels: 1, depth: 16, compression: 'none' },
  { name: 'rgb8-24mp', width: 6000, height: 4000, channels: 3, depth: 8, compression: 'none' },
];

async function main(): Promise<void> {
  await mkdir(`${OUT}/images`, { recursive: true });
  console.log(`histeq-array bench — ${RUNS} runs each, median (min–max)\n`);

  const steal: Record<string, number | null> = {};
  let mark = cpuTimes();
  const section = (name: string) => {
    const now = cpuTimes();
    steal[name] = stealShare(mark, now);
    mark = now;
    return formatSteal(steal[name]);
  };

  const kernels = await benchKernels(RUNS);
  console.log(`Kernel throughput, one thread (GB/s) — ${section('kernels')}`);
  for (const k of kernels) console.log(`  ${k.kernel.padEnd(26)} ${fmt(k.gbPerSecond)}`);

  console.log(
    '\nSingle-process CLI, end to end incl. process start-up (s); raw TIFFs in place, LZW decoded and encoded',
  );
  mark = cpuTimes();
  const cli: Record<string, unknown>[] = [];
  for (const img of CLI_IMAGES) {
    const input = await ensureImage(`${OUT}/images`, img);
    const output = `${OUT}/out-${img.name}.tif`;
    const seconds = await repeat(RUNS, async () => {
      const t = performance.now();
      await exec('node', [CLI, 'equalize', input, output]);
      return (performance.now() - t) / 1000;
    });
    const mp = (img.width * img.height) / 1e6;
    console.log(
      `  ${img.name.padEnd(16)} ${fmt(seconds)}   ${(mp / seconds.median).toFixed(0)} MP/s`,
    );
    cli.push({ image: img, seconds });
    await rm(output, { force: true });
  }
  console.log(`  (${section('cli')})`);

  console.log(
    '\nLocal cluster, upload start → result ready (s) [phases, ms], event-loop p99, peak RSS, ZooKeeper ops/job',
  );
  const clusterRuns: ClusterFigures[] = [];
  const image = (name: string) =>
    ensureImage(`${OUT}/images`, CLI_IMAGES.find((i) => i.name === name) as BenchImage);
  mark = cpuTimes();
  // [pods, image, tasks per job (default: one per pod)]
  const plan: [number, string, number?][] = [
    [1, 'grey8-64mp'],
    [2, 'grey8-64mp'],
    [5, 'grey8-16mp'],
    [5, 'grey8-64mp'],
    [5, 'grey8-144mp'],
    [5, 'grey16-16mp'],
    [5, 'grey8-16mp', 10],
    [5, 'grey8-16mp', 20],
  ];
  for (const [pods, name, tasks] of plan) {
    const f = await benchCluster(pods, await image(name), RUNS, tasks);
    clusterRuns.push(f);
    const phases = Object.entries(f.phaseMs)
      .map(([k, v]) => `${k} ${v.median.toFixed(0)}`)
      .join(', ');
    console.log(
      `  ${pods} pod${pods === 1 ? ' ' : 's'} ${f.image.padEnd(16)} ${String(f.tasks).padStart(2)} tasks ${fmt(f.seconds)} [${phases}]\n` +
        `      loop p99 master ${f.loopP99Ms.master.toFixed(0)} ms, workers ${f.loopP99Ms.worker.toFixed(0)} ms;` +
        ` peak RSS master ${f.peakRssMb.master.toFixed(0)} MB, worker ${f.peakRssMb.worker.toFixed(0)} MB;` +
        ` ZooKeeper ops ${f.zkOpsPerJob}; sessions lost ${f.sessionsLost}; ${section(`cluster ${pods} ${name} ${f.tasks}`)}`,
    );
  }

  // Linear cost: time per megapixel at 144 MP over that at 16 MP (≤ 1.25 is the target).
  const perMp = (seconds: number, name: string) => {
    const img = CLI_IMAGES.find((i) => i.name === name) as BenchImage;
    return seconds / ((img.width * img.height) / 1e6);
  };
  const cliSeconds = (name: string) =>
    (cli.find((c) => (c.image as BenchImage).name === name)?.seconds as { median: number }).median;
  const clusterSeconds = (name: string) =>
    clusterRuns.find((c) => c.pods === 5 && c.tasks === 5 && c.image === `${name}.tif`)?.seconds
      .median ?? NaN;
  const linearity = {
    cli:
      perMp(cliSeconds('grey8-144mp'), 'grey8-144mp') /
      perMp(cliSeconds('grey8-16mp'), 'grey8-16mp'),
    cluster5:
      perMp(clusterSeconds('grey8-144mp'), 'grey8-144mp') /
      perMp(clusterSeconds('grey8-16mp'), 'grey8-16mp'),
  };
  console.log(
    `\nPer-megapixel time at 144 MP ÷ at 16 MP (8-bit): CLI ${linearity.cli.toFixed(2)}, 5-pod cluster ${linearity.cluster5.toFixed(2)}`,
  );
  // CLAHE side by side with OpenCV on one machine: the cluster's time is upload → result.
  const claheImage = await image('grey8-64mp');
  mark = cpuTimes();
  const clahe = await benchClahe(claheImage, 5, RUNS);
  console.log(
    `\nCLAHE 8x8 clip 40, grey8-64mp: OpenCV apply (one process, decode not timed) ${fmt(clahe.opencvApplySeconds)} s; ` +
      `5 pods upload → result ${fmt(clahe.cluster.seconds)} s — ${section('clahe')}`,
  );

  const ops = clusterRuns
    .filter((c) => c.pods === 5 && c.image === 'grey8-16mp.tif')
    .map((c) => `${c.tasks} tasks ${c.zkOpsPerJob} (${(c.zkOpsPerJob / c.tasks).toFixed(0)}/task)`);
  console.log(`ZooKeeper operations per job, 5 pods, by tasks per phase: ${ops.join(', ')}`);

  await writeFile(
    `${OUT}/bench.json`,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        runs: RUNS,
        steal,
        kernels,
        cli,
        cluster: clusterRuns,
        linearity,
        clahe,
      },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${OUT}/bench.json`);
}

await main();
