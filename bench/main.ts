/**
 * `npm run bench`: measures and prints; nothing here asserts. Images are generated once under
 * bench-results/images (ignored by git); figures are written to bench-results/bench.json.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureImage, type BenchImage } from './images.js';
import {
  CLAHE_IMAGE,
  CLI_IMAGES,
  DEFLATE_IMAGE,
  FIXED_COST_IMAGE,
  SIDE_BY_SIDE,
  SIDE_IMAGES,
} from './catalogue.js';
import { benchClahe } from './clahe.js';
import { benchDeflate } from './deflate.js';
import { benchCluster, startBenchCluster, type ClusterFigures } from './cluster.js';
import { formatCost, jobCost, sampleCost, type JobCost } from './job-cost.js';
import { benchGiga, benchMasterCpu, type MasterCpuFigures } from './giga.js';
import { benchKernels } from './kernels.js';
import { cpuTimes, formatSteal, stealShare } from './machine.js';
import { closeUploader } from './uploader.js';
import {
  benchJobs,
  benchSideBySide,
  type JobFigures,
  type SideBySideFigures,
} from './side-by-side.js';
import { fmt, repeat, type Summary } from './stats.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = `${ROOT}bench-results`;
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const FIXED_RUNS = Number(process.env.BENCH_FIXED_RUNS ?? 20);
/**
 * Sections to run (comma-separated), all by default: fixed, side, kernels, deflate, cli, cluster,
 * clahe.
 * `giga` (400 MP and 1-gigapixel jobs, many minutes) runs only when named; `master-cpu` is its
 * last part alone (the master's CPU per job at 64 and 400 MP).
 */
const SECTIONS = new Set(
  (process.env.BENCH_SECTIONS ?? 'fixed,side,kernels,deflate,cli,cluster,clahe').split(','),
);

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
  const figures: Record<string, unknown> = {};

  if (SECTIONS.has('fixed') || SECTIONS.has('side')) {
    mark = cpuTimes();
    const { fixedCost, sideBySide } = await fixedAndSideBySide(section);
    figures.fixedCost = fixedCost;
    figures.sideBySide = sideBySide;
  }

  if (SECTIONS.has('kernels')) {
    mark = cpuTimes();
    const kernels = await benchKernels(RUNS);
    console.log(`\nKernel throughput, one thread (GB/s) — ${section('kernels')}`);
    for (const k of kernels) console.log(`  ${k.kernel.padEnd(26)} ${fmt(k.gbPerSecond)}`);
    figures.kernels = kernels;
  }

  if (SECTIONS.has('deflate')) {
    mark = cpuTimes();
    const image = await ensureImage(`${OUT}/images`, DEFLATE_IMAGE);
    const deflate = await benchDeflate(image, RUNS);
    console.log(
      `\nDeflate per 256×256 tile of an equalized ${DEFLATE_IMAGE.name} band, one thread (CPU ms; compressed/raw) — ${section('deflate')}`,
    );
    for (const d of deflate) {
      console.log(`  ${d.encoder.padEnd(30)} ${fmt(d.msPerTile, 3)}   ${d.ratio.toFixed(4)}`);
    }
    figures.deflate = deflate;
  }

  const cli = new Map<string, Summary>();
  if (SECTIONS.has('cli')) {
    console.log(
      '\nSingle-process CLI, end to end incl. process start-up (s); raw TIFFs in place, LZW decoded and encoded',
    );
    mark = cpuTimes();
    for (const img of CLI_IMAGES) {
      const input = await ensureImage(`${OUT}/images`, img);
      const output = `${OUT}/out-${img.name}.tif`;
      const seconds = await repeat(RUNS, async () => {
        const t = performance.now();
        await exec('node', [CLI, 'equalize', input, output]);
        return (performance.now() - t) / 1000;
      });
      console.log(
        `  ${img.name.padEnd(16)} ${fmt(seconds)}   ${(megapixels(img) / seconds.median).toFixed(0)} MP/s`,
      );
      cli.set(img.name, seconds);
      await rm(output, { force: true });
    }
    console.log(`  (${section('cli')})`);
    figures.cli = [...cli].map(([image, seconds]) => ({ image, seconds }));
  }

  if (SECTIONS.has('cluster')) {
    mark = cpuTimes();
    Object.assign(figures, await clusterPlan(section, cli));
  }

  if (SECTIONS.has('clahe')) {
    mark = cpuTimes();
    const image = await ensureImage(`${OUT}/images`, CLAHE_IMAGE);
    const clahe = await benchClahe(image, 5, RUNS, OUT);
    console.log(
      `\nCLAHE 8x8 clip 40, ${CLAHE_IMAGE.name}: one OpenCV process read → apply → write ${fmt(clahe.opencvSeconds)} s ` +
        `(apply ${fmt(clahe.opencvApplySeconds)} s); 5 pods upload → result ${fmt(clahe.cluster.seconds)} s — ${section('clahe')}`,
    );
    figures.clahe = clahe;
  }

  if (SECTIONS.has('giga')) {
    mark = cpuTimes();
    console.log(
      '\nGigapixel jobs, 8-bit LZW + predictor, a fresh 5-pod cluster each with the default settings; one OpenCV process on the same file',
    );
    const giga = await benchGiga(`${OUT}/images`, OUT);
    for (const g of giga) {
      const mb = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' / ');
      console.log(
        `  ${g.image.padEnd(16)} ${g.fileMb.toFixed(0)} MB file: cluster ${g.seconds.toFixed(1)} s, OpenCV ${g.opencvSeconds.toFixed(1)} s, same pixels: ${g.identical ? 'yes' : 'NO'}\n` +
          `      peak RSS per pod (MB, master first) ${mb(g.peakRssMb)}; CPU s per pod ${g.cpuSeconds.map((x) => x.toFixed(1)).join(' / ')}`,
      );
    }
    const masterCpu = await printMasterCpu(() => section('giga'));
    figures.giga = { jobs: giga, masterCpu };
  } else if (SECTIONS.has('master-cpu')) {
    mark = cpuTimes();
    figures.masterCpu = await printMasterCpu(() => section('master-cpu'));
  }

  await writeFile(
    `${OUT}/bench.json`,
    JSON.stringify({ date: new Date().toISOString(), runs: RUNS, steal, ...figures }, null, 2),
  );
  console.log(`\nwrote ${OUT}/bench.json`);
}

/**
 * One 5-pod cluster for both: the fixed cost of a job (the smallest image, many jobs), then
 * each SIDE_BY_SIDE image through the cluster and through one OpenCV process, alternating.
 */
async function fixedAndSideBySide(
  section: (name: string) => string,
): Promise<{ fixedCost?: JobFigures & { cost: JobCost }; sideBySide: SideBySideFigures[] }> {
  const cluster = await startBenchCluster(5);
  const sideBySide: SideBySideFigures[] = [];
  let fixedCost: (JobFigures & { cost: JobCost }) | undefined;
  try {
    if (SECTIONS.has('fixed')) {
      const path = await ensureImage(`${OUT}/images`, FIXED_COST_IMAGE);
      await benchJobs(cluster, path, 2); // warm-up: first-job paths (module loads, JIT)
      const before = await sampleCost(cluster.url, cluster.zkPid);
      const jobs = await benchJobs(cluster, path, FIXED_RUNS);
      const cost = jobCost(before, await sampleCost(cluster.url, cluster.zkPid), FIXED_RUNS);
      fixedCost = { ...jobs, cost };
      console.log(
        `Fixed cost of a job: 1×1 grey 8-bit through 5 pods, upload start → result ready, ${FIXED_RUNS} jobs (ms) — ${section('fixed')}\n` +
          `  ${fmtMs(fixedCost.seconds)} [${phaseList(fixedCost.phaseMs)}]\n` +
          formatCost(cost),
      );
    }
    if (SECTIONS.has('side')) {
      console.log(
        '\nSide by side: 5 pods (upload start → result ready, through the front door) and one OpenCV process on the same file' +
          ' (read, equalizeHist, write with the same compression; in-process, and the whole process with start-up) (s)',
      );
      const images = SIDE_BY_SIDE.filter(
        (img) => !SIDE_IMAGES || SIDE_IMAGES.some((part) => img.name.includes(part)),
      );
      for (const img of images) {
        const path = await ensureImage(`${OUT}/images`, img);
        const f = await benchSideBySide(cluster, img, path, RUNS, OUT);
        sideBySide.push(f);
        console.log(
          `  ${img.name.padEnd(16)} cluster ${fmt(f.seconds)}   OpenCV ${fmt(f.opencv)} (process ${f.opencvProcess.median.toFixed(2)})` +
            `   ratio ${f.ratio.toFixed(2)}×   same pixels: ${f.identical ? 'yes' : 'NO'}\n` +
            `      [${phaseList(f.phaseMs)}]\n` +
            `      uploaded to the master pod itself: ${fmt(f.direct.seconds)}, ratio ${(f.direct.seconds.median / f.opencv.median).toFixed(2)}× — ${section(`side ${img.name}`)}`,
        );
      }
    }
  } finally {
    await cluster.close();
  }
  return { fixedCost, sideBySide };
}

/** Clusters of 1, 2 and 5 pods on the CLI's images; linearity and ZooKeeper operations. */
async function clusterPlan(section: (name: string) => string, cli: Map<string, Summary>) {
  console.log(
    '\nLocal cluster, upload start → result ready (s) [phases, ms], event-loop p99, peak RSS, ZooKeeper ops/job',
  );
  const image = (name: string) => CLI_IMAGES.find((i) => i.name === name) as BenchImage;
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
  const runs: (ClusterFigures & { name: string })[] = [];
  for (const [pods, name, tasks] of plan) {
    const f = await benchCluster(
      pods,
      await ensureImage(`${OUT}/images`, image(name)),
      RUNS,
      tasks,
    );
    runs.push({ ...f, name });
    console.log(
      `  ${pods} pod${pods === 1 ? ' ' : 's'} ${name.padEnd(16)} ${String(f.tasks).padStart(2)} tasks ${fmt(f.seconds)} [${phaseList(f.phaseMs)}]\n` +
        `      loop p99 master ${f.loopP99Ms.master.toFixed(0)} ms, workers ${f.loopP99Ms.worker.toFixed(0)} ms;` +
        ` peak RSS master ${f.peakRssMb.master.toFixed(0)} MB, worker ${f.peakRssMb.worker.toFixed(0)} MB;` +
        ` ZooKeeper ops ${f.zkOpsPerJob}; sessions lost ${f.sessionsLost}; ${section(`cluster ${pods} ${name} ${f.tasks}`)}`,
    );
  }

  // Linear cost: time per megapixel at 144 MP over that at 16 MP (≤ 1.25 is the target).
  const perMp = (seconds: number | undefined, name: string) =>
    (seconds ?? NaN) / megapixels(image(name));
  const clusterSeconds = (name: string) =>
    runs.find((c) => c.pods === 5 && c.tasks === 5 && c.name === name)?.seconds.median;
  const ratio = (seconds: (name: string) => number | undefined) =>
    perMp(seconds('grey8-144mp'), 'grey8-144mp') / perMp(seconds('grey8-16mp'), 'grey8-16mp');
  const linearity = {
    cli: ratio((name) => cli.get(name)?.median),
    cluster5: ratio(clusterSeconds),
  };
  console.log(
    `\nPer-megapixel time at 144 MP ÷ at 16 MP (8-bit): CLI ${linearity.cli.toFixed(2)}, 5-pod cluster ${linearity.cluster5.toFixed(2)}`,
  );
  const ops = runs
    .filter((c) => c.pods === 5 && c.name === 'grey8-16mp')
    .map((c) => `${c.tasks} tasks ${c.zkOpsPerJob} (${(c.zkOpsPerJob / c.tasks).toFixed(0)}/task)`);
  console.log(`ZooKeeper operations per job, 5 pods, by tasks per phase: ${ops.join(', ')}`);
  return { cluster: runs, linearity };
}

async function printMasterCpu(section: () => string) {
  const masterCpu = await benchMasterCpu(`${OUT}/images`);
  console.log(`  master CPU per job with MASTER_TAKES_TASKS=false — ${section()}`);
  for (const m of masterCpu) {
    console.log(
      `    ${m.image.padEnd(16)} upload ${m.cpuSeconds.toFixed(2)} s CPU (job ${m.seconds.toFixed(1)} s), inbox ${m.inboxCpuSeconds.toFixed(2)} s CPU (job ${m.inboxSeconds.toFixed(1)} s); idle ${(m.idleCpuPerSecond * 1000).toFixed(0)} ms CPU/s`,
    );
  }
  const [small, large] = masterCpu;
  if (small && large) {
    const ratio = (a: number, b: number) => (a / b).toFixed(1);
    // What the job itself cost beyond the master's background work over the same seconds.
    const net = (m: MasterCpuFigures) => m.inboxCpuSeconds - m.idleCpuPerSecond * m.inboxSeconds;
    console.log(
      `    400 MP ÷ 64 MP: upload ${ratio(large.cpuSeconds, small.cpuSeconds)}×, inbox ${ratio(large.inboxCpuSeconds, small.inboxCpuSeconds)}×, inbox less the idle rate over the job ${ratio(net(large), net(small))}× (target ≤ 2×)`,
    );
  }
  return masterCpu;
}

const megapixels = (img: BenchImage) => (img.width * img.height) / 1e6;

const phaseList = (phases: Record<string, Summary>) =>
  Object.entries(phases)
    .map(([k, v]) => `${k} ${v.median.toFixed(0)}`)
    .join(', ');

const fmtMs = (s: Summary) =>
  `${(s.median * 1000).toFixed(0)} (${(s.min * 1000).toFixed(0)}–${(s.max * 1000).toFixed(0)})`;

try {
  await main();
} finally {
  await closeUploader();
}
