import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { createLogger } from '../common/log.js';
import { ZkSession } from '../coordination/index.js';
import { PARAMS_PATH } from '../jobs/paths.js';
import type { JobRecord } from '../jobs/types.js';
import type { LocalCluster } from '../local/local-cluster.js';
import { REPO_ROOT } from '../local/local-config.js';
import { startScratchCluster, type ScratchCluster } from '../local/scratch-cluster.js';
import type { ZookeeperServer } from '../local/zookeeper-server.js';
import { check, leftovers, servingMaster, until, upload, waitForState } from './probes.js';

/** The image every drill equalizes, and the single-process CLI's result for it. */
export interface Fixture {
  name: string;
  bytes: Buffer;
  expected: Buffer;
}

/**
 * A large-enough grey TIFF (default 2000×1500): a gradient with seeded noise, so every strip
 * has a different histogram and a wrong stitch or a lost strip changes the result.
 */
export async function makeFixture(
  dir: string,
  width = 2000,
  height = 1500,
  tiff: {
    compression: 'none' | 'lzw' | 'deflate' | 'jpeg';
    predictor?: 'none' | 'horizontal';
    tile?: boolean;
    /** JPEG quality of the input (libvips' default 75 otherwise). */
    quality?: number;
  } = {
    compression: 'none',
  },
): Promise<Fixture> {
  const pixels = Buffer.alloc(width * height);
  let seed = 0x9e3779b9;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      pixels[y * width + x] =
        70 + Math.floor(((x + 2 * y) / (width + 2 * height)) * 50) + (seed >>> 28);
    }
  }
  await mkdir(dir, { recursive: true });
  const input = join(dir, 'drill.tif');
  await sharp(pixels, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .tiff({ predictor: 'none', ...tiff })
    .toFile(input);
  const output = join(dir, 'drill.cli.tif');
  await promisify(execFile)(process.execPath, [
    join(REPO_ROOT, 'dist/src/cli/main.js'),
    'equalize',
    input,
    output,
  ]);
  return { name: 'drill.tif', bytes: await readFile(input), expected: await readFile(output) };
}

export interface DrillOptions {
  pods?: number;
  /** Pod environment on top of the drill defaults (session timeout, one thread each). */
  env?: Record<string, string>;
}

/** One real local cluster for one drill: ZooKeeper the drill controls, pods, front door. */
export class Drill {
  readonly sessionTimeoutMs = 4_000;

  readonly cluster: LocalCluster;
  readonly zk: ZookeeperServer;
  readonly dir: string;

  private constructor(
    private readonly scratch: ScratchCluster,
    readonly admin: ZkSession,
    readonly fixture: Fixture,
  ) {
    this.cluster = scratch.cluster;
    this.zk = scratch.zk;
    this.dir = scratch.dir;
  }

  static async start(fixture: Fixture, options: DrillOptions = {}): Promise<Drill> {
    const pods = options.pods ?? 3;
    const scratch = await startScratchCluster({
      pods,
      env: { LOG_FORMAT: 'json', ...options.env },
      console: process.env.HISTEQ_TEST_VERBOSE ? process.stderr : null,
      logLevel: 'error',
      stopTimeoutMs: 15_000,
    });
    const { cluster, zk } = scratch;
    try {
      // Jobs get one task per live pod: wait until the master sees every pod.
      await until(
        `the master to see all ${pods} pods`,
        async () => {
          const res = await fetch(`${cluster.frontDoorUrl}/api/cluster`).catch(() => null);
          const body = res?.ok ? ((await res.json()) as { pods?: unknown[] }) : null;
          return body?.pods?.length === pods;
        },
        20_000,
      );
      const admin = await ZkSession.create({
        connectionString: zk.connectionString,
        sessionTimeoutMs: 4_000,
        logger: createLogger({ pod: 'drill-admin', level: 'silent' }),
      });
      return new Drill(scratch, admin, fixture);
    } catch (err) {
      await scratch.close();
      throw err;
    }
  }

  get url(): string {
    return this.cluster.frontDoorUrl;
  }

  get sharedDir(): string {
    return this.cluster.sharedDir;
  }

  get logDir(): string {
    return this.cluster.logDir;
  }

  /** The pod serving as master now (waits, bounded, through a fail-over). */
  master(timeoutMs = 15_000): Promise<string> {
    return until(
      'a master serving through the front door',
      () => servingMaster(this.cluster.registryPath, this.url),
      timeoutMs,
    );
  }

  submit(): Promise<string> {
    return upload(this.url, this.fixture.bytes, this.fixture.name);
  }

  /** Live tunables, e.g. the task count of the next jobs. */
  async setTasksPerJob(tasks: number): Promise<void> {
    await this.admin.ensurePath(PARAMS_PATH);
    await this.admin.setData(PARAMS_PATH, JSON.stringify({ tasks_per_job: tasks }));
    await new Promise((r) => setTimeout(r, 300)); // pods learn it through their watch
  }

  /** Waits for the job to end; checks `done`, the exact result and that nothing is left. */
  async expectDone(id: string, timeoutMs = 60_000): Promise<JobRecord> {
    const record = await waitForState(this.admin, id, ['done', 'failed'], timeoutMs);
    check(record.state === 'done', `job ${id} ended ${record.state}: ${record.error ?? ''}`);
    const res = await until(
      'the result through the front door',
      async () => {
        const r = await fetch(`${this.url}${record.result}`).catch(() => null);
        return r?.ok ? r : null;
      },
      15_000,
    );
    const bytes = Buffer.from(await res.arrayBuffer());
    check(bytes.equals(this.fixture.expected), `job ${id}: result differs from the CLI's`);
    await this.expectClean(id);
    return record;
  }

  /** No task znodes, locks or work files left (cleanup follows the final write closely). */
  async expectClean(id: string): Promise<void> {
    let last: string[] = [];
    await until(
      `job ${id} to leave nothing behind (left: ${last.join(', ')})`,
      async () => (last = await leftovers(this.admin, this.sharedDir, id)).length === 0,
      10_000,
    ).catch(() => check(false, `job ${id} left ${last.join(', ')}`));
  }

  async close(): Promise<void> {
    await this.admin.close();
    const keep = Boolean(process.env.HISTEQ_DRILL_KEEP);
    await this.scratch.close(keep);
    if (keep) console.log('kept', this.scratch.dir);
  }
}

/** Runs `body` with a fresh drill cluster and always tears it down. */
export async function withDrill<T>(
  fixture: Fixture,
  options: DrillOptions,
  body: (drill: Drill) => Promise<T>,
): Promise<T> {
  const drill = await Drill.start(fixture, options);
  try {
    return await body(drill);
  } finally {
    await drill.close();
  }
}
