import { claheGrid, type ClaheBand, type ClaheParams } from '../imaging/clahe/grid.js';
import type { ImageInfo } from '../imaging/image-info.js';
import { expectedBandCount } from '../imaging/clahe/tile-histograms.js';
import { planBands } from './plan.js';
import type { JobRecord } from './types.js';

/**
 * Strip `index`'s CLAHE band of a job (the same split as its strips: planBands), as a field to
 * spread into a task payload or pool request; nothing for a globally equalized job.
 */
export function claheBandOf(job: JobRecord, index: number): { clahe?: ClaheBand } {
  const params = job.options.clahe;
  if (!params) return {};
  const strip = planBands(job.info, job.tasks)[index];
  if (!strip) throw new RangeError(`job ${job.id} has no strip ${index}`);
  return { clahe: { params, image: job.info.layout, top: strip.top } };
}

/** Every strip's CLAHE band at once, for a caller that walks all of them (one plan, not one each). */
export function claheBands(
  info: ImageInfo,
  params: ClaheParams | undefined,
  tasks: number,
): { clahe?: ClaheBand }[] {
  return planBands(info, tasks).map((strip) =>
    params ? { clahe: { params, image: info.layout, top: strip.top } } : {},
  );
}

/**
 * A band's per-tile histograms count each of its pixels once per plane, plus each padded pixel
 * that copies one of them (tile-histograms.ts): anything else is a fault. Checked on the
 * serialized form: `[tile rows K, their indices, counts…]`.
 */
export function checkClaheBands(
  job: JobRecord,
  bands: readonly Uint32Array[],
): { index: number; problem: string }[] {
  const grid = claheGrid(job.info.layout, job.options.mode, job.options.clahe!);
  const strips = planBands(job.info, job.tasks);
  return bands.flatMap((band, index) => {
    const strip = strips[index]!;
    const expected = expectedBandCount(grid, strip.top, strip.rows);
    const rows = band[0] ?? 0;
    let counted = 0;
    for (let i = 1 + rows; i < band.length; i++) counted += band[i]!;
    return counted === expected
      ? []
      : [{ index, problem: `its tile histograms count ${counted} samples, not ${expected}` }];
  });
}
