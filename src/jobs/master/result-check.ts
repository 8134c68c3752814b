import {
  parseTaskNode,
  type DoneRecord,
  type TaskSpec,
  type ZkOp,
  type ZkSession,
} from '../../coordination/index.js';
import { seededRandom } from '../../common/random.js';
import { rowBytes, type Lut } from '../../imaging/types.js';
import type { CodecBand } from '../../imaging/tiff-codec/band.js';
import type { ImagePool } from '../../pool/image-pool.js';
import { taskPath, tasksPath, type SharedLayout, type TaskKind } from '../paths.js';
import { claheBandOf, checkClaheBands } from '../clahe-job.js';
import { planBands } from '../plan.js';
import { absoluteRef, storageFor } from '../storage/job-storage.js';
import { RERUN_PREFIX } from '../task-board.js';
import type { JobRecord } from '../types.js';

/** Rows recomputed per strip besides its first and last (where torn writes show first). */
const SAMPLED_ROWS_PER_STRIP = 6;

/** A strip that failed the check, and why (one sentence). */
export interface StripProblem {
  index: number;
  problem: string;
}

/**
 * Checks every equalized strip of a job before it is called done (one pool request per strip,
 * run in parallel): its bytes against the checksum its task recorded, and a deterministic sample
 * of its rows against the source through the LUT, recomputed by the scalar path. Returns the
 * strips that fail; an empty list means the strips may be joined. A storage whose result an
 * assemble task joins (a chunked page) has the bytes hashed there, as they are copied.
 */
export async function checkResult(
  pool: ImagePool,
  shared: SharedLayout,
  job: JobRecord,
  dones: readonly DoneRecord[],
  lut: Lut,
): Promise<StripProblem[]> {
  const storage = storageFor(shared, job.id, job.upload, job.info);
  const hashedByAssembly = storage.assembly !== undefined;
  const sources = storage.strips(job.tasks).map((s) => absoluteRef(shared, s));
  const verify = async (index: number, hashed: boolean) => {
    const source = sources[index]!;
    const done = dones[index]!;
    const { problem } = await pool.verify({
      result: await storage.written(done, source),
      source,
      ...(hashed ? { checksum: done.checksum } : {}),
      rows: source.codec
        ? sampledRowsOfOneChunkRow(job.id, index, source.layout.height, source.codec)
        : sampledRows(job.id, index, source.layout.height),
      mode: job.options.mode,
      lut,
      ...claheBandOf(job, index),
    });
    return problem === null ? null : { index, problem };
  };
  const checks = await Promise.all(
    sources.map(async (_, index) => {
      const failed = await verify(index, !hashedByAssembly);
      // Bytes that are not the task's (a torn write) say more than the rows they spoil.
      return failed && hashedByAssembly ? verify(index, true) : failed;
    }),
  );
  return checks.filter((c): c is StripProblem => c !== null);
}

/** The strips an assemble task found not to be their tasks' bytes (a torn or lost write). */
export function mismatchedStrips(indexes: readonly number[]): StripProblem[] {
  return indexes.map((index) => ({
    index,
    problem: 'its bytes do not match the checksum its task recorded',
  }));
}

/**
 * The rows of a strip that are recomputed: its first and last, and a few more drawn from a PRNG
 * seeded by the job and strip, so a re-check (a resumed master) looks at the same rows.
 */
export function sampledRows(job: string, strip: number, rows: number): number[] {
  const random = seededRandom(hashString(`${job}/${strip}`));
  const picked = new Set<number>([0, rows - 1]);
  for (let i = 0; i < SAMPLED_ROWS_PER_STRIP && picked.size < rows; i++) {
    picked.add(Math.floor(random() * rows));
  }
  return [...picked].filter((r) => r >= 0).sort((a, b) => a - b);
}

/**
 * A chunked page's sampled rows lie in the first rows of this many bytes of one chunk row, so
 * the check decodes about this much per band, in the source and in the result, whatever the
 * size of the image (a strip of 256 rows 20000 pixels wide is 5 MB).
 */
const SAMPLED_CHUNK_ROW_BYTES = 256 << 10;

/**
 * A chunked page's rows to recompute all lie at the top of one chunk row (a strip, or a row of
 * tiles; the first rows of every tile across the image), drawn like sampledRows: the check
 * decodes just those rows of the source and of the result, where a visit of the task's rows,
 * a chunk and the coder's state all begin. A write torn anywhere is caught by the hash of the
 * whole band file.
 */
export function sampledRowsOfOneChunkRow(
  job: string,
  strip: number,
  rows: number,
  band: CodecBand,
): number[] {
  const height = band.geometry.chunkHeight;
  const chunkRows = Math.ceil(rows / height);
  const random = seededRandom(hashString(`${job}/${strip}/chunk-row`));
  const top = Math.floor(random() * chunkRows) * height;
  const prefix = Math.max(1, Math.floor(SAMPLED_CHUNK_ROW_BYTES / rowBytes(band.geometry.layout)));
  return sampledRows(job, strip, Math.min(height, rows - top, prefix)).map((y) => top + y);
}

/** FNV-1a: a stable 32-bit seed from a string. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A strip's histogram counts each of its pixels once per plane: anything else is a fault. */
export function checkHistograms(
  job: JobRecord,
  histograms: readonly Uint32Array[],
): StripProblem[] {
  if (job.options.clahe) return checkClaheBands(job, histograms);
  const strips = planBands(job.info, job.tasks);
  const bins = job.info.layout.depth === 16 ? 65536 : 256;
  const { width } = job.info.layout;
  return histograms.flatMap((h, index): StripProblem[] => {
    const height = strips[index]!.rows;
    const expected = width * height * (h.length / bins);
    const counted = h.reduce((a, b) => a + b, 0);
    return counted === expected
      ? []
      : [{ index, problem: `its histogram counts ${counted} samples, not ${expected}` }];
  });
}

/**
 * The ops that re-open the tasks whose output failed a check (they go into the same fenced
 * transaction as the job's move back to their phase): each task's `done` removed and a `reruns`
 * count in its spec, which keeps the re-run from counting against its attempts; and the marker
 * `rerun_<n>` that tells every pod's board to read its finished tasks again.
 */
export async function reopenOps(
  session: ZkSession,
  job: string,
  kind: TaskKind,
  problems: readonly StripProblem[],
  rerun: number,
): Promise<ZkOp[]> {
  const tasks = await Promise.all(
    problems.map(async (p): Promise<ZkOp[]> => {
      const path = taskPath(job, kind, p.index);
      const { data, stat } = await session.getData(path);
      const spec = parseTaskNode<TaskSpec>(data, path, 'spec');
      const next: TaskSpec = { ...spec, reruns: (spec.reruns ?? 0) + 1 };
      return [
        { op: 'remove', path: `${path}/done` },
        { op: 'setData', path, data: JSON.stringify(next), version: stat.version },
      ];
    }),
  );
  return [
    ...tasks.flat(),
    { op: 'create', path: `${tasksPath(job, kind)}/${RERUN_PREFIX}${rerun}`, mode: 'persistent' },
  ];
}
