import type { DoneRecord } from '../coordination/index.js';
import { seededRandom } from '../common/random.js';
import type { Lut } from '../imaging/types.js';
import type { ImagePool } from '../pool/image-pool.js';
import type { StripRef } from '../pool/protocol.js';
import type { SharedLayout } from './paths.js';
import { jobStrips } from './phase-tasks.js';
import type { JobRecord } from './types.js';

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
 * strips that fail; an empty list means the result may ship.
 */
export async function checkResult(
  pool: ImagePool,
  shared: SharedLayout,
  job: JobRecord,
  dones: readonly DoneRecord[],
  lut: Lut,
): Promise<StripProblem[]> {
  const sources = jobStrips(shared, job).map((s) => ({ ...s, path: shared.abs(s.path) }));
  const checks = await Promise.all(
    sources.map(async (source, index) => {
      const done = dones[index]!;
      const result: StripRef = {
        path: shared.abs(done.pointer),
        offset: typeof done.offset === 'number' ? done.offset : 0,
        layout: source.layout,
      };
      const { problem } = await pool.verify({
        result,
        source,
        checksum: done.checksum,
        rows: sampledRows(job.id, index, source.layout.height),
        mode: job.options.mode,
        lut,
      });
      return problem === null ? null : { index, problem };
    }),
  );
  return checks.filter((c): c is StripProblem => c !== null);
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

/** FNV-1a: a stable 32-bit seed from a string. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
