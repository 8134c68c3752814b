/**
 * `npm run bench`: measures and prints; nothing here asserts. Images are generated once under
 * bench-results/images (ignored by git); figures are written to bench-results/bench.json.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureImage, type BenchImage } from './images.js';
import { benchCluster, type ClusterFigures } from './cluster.js';
import { benchKernels } from './kernels.js';
import { fmt, repeat } from './stats.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = `${ROOT}bench-results`;
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const CLI_IMAGES: BenchImage[] = [
  { name: 'grey8-16mp', width: 4000, height: 4000, channels: 1, depth: 8, compression: 'none' },
  { name: 'grey8-64mp', width: 8000, height: 8000, channels: 1, depth: 8, compression: 'none' },
  { name: 'grey8-64mp-lzw', width: 8000, height: 8000, channels: 1, depth: 8, compression: 'lzw' },
  { name: 'grey16-16mp', width: 4000, height: 4000, channels: 1, depth: 16, compression: 'none' },
  { name: 'rgb8-24mp', width: 6000, height: 4000, channels: 3, depth: 8, compression: 'none' },
];

async function main(): Promise<void> {
  await mkdir(`${OUT}/images`, { recursive: true });
  console.log(`histeq-array bench — ${RUNS} runs each, median (min–max)\n`);

  const kernels = await benchKernels(RUNS);
  console.log('Kernel throughput, one thread (GB/s)');
  for (const k of kernels) console.log(`  ${k.kernel.padEnd(26)} ${fmt(k.gbPerSecond)}`);

  console.log(
    '\nSingle-process CLI, end to end (s): decode → split → histogram → reduce → equalize → stitch → encode',
  );
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

  console.log(
    '\nLocal cluster, upload start → result ready (s) [phases, ms], event-loop p99, peak RSS, ZooKeeper ops/job',
  );
  const clusterRuns: ClusterFigures[] = [];
  const grey64 = await ensureImage(`${OUT}/images`, CLI_IMAGES[1]);
  const grey16bit = await ensureImage(`${OUT}/images`, CLI_IMAGES[3]);
  for (const [pods, image] of [
    [1, grey64],
    [2, grey64],
    [5, grey64],
    [5, grey16bit],
  ] as const) {
    const f = await benchCluster(pods, image, RUNS);
    clusterRuns.push(f);
    const phases = Object.entries(f.phaseMs)
      .map(([k, v]) => `${k} ${v.median.toFixed(0)}`)
      .join(', ');
    console.log(
      `  ${pods} pod${pods === 1 ? ' ' : 's'} ${f.image.padEnd(16)} ${fmt(f.seconds)} [${phases}]\n` +
        `      loop p99 master ${f.loopP99Ms.master.toFixed(0)} ms, workers ${f.loopP99Ms.worker.toFixed(0)} ms;` +
        ` peak RSS master ${f.peakRssMb.master.toFixed(0)} MB, worker ${f.peakRssMb.worker.toFixed(0)} MB;` +
        ` ZooKeeper ops ${f.zkOpsPerJob}`,
    );
  }

  await writeFile(
    `${OUT}/bench.json`,
    JSON.stringify(
      { date: new Date().toISOString(), runs: RUNS, kernels, cli, cluster: clusterRuns },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${OUT}/bench.json`);
}

await main();
