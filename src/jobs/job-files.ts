import type { SharedLayout } from './paths.js';

/** Work files of a job, relative to SHARED_DIR (removed with the job's work folder). */
export function jobFiles(shared: SharedLayout, id: string) {
  const dir = shared.workRel(id);
  return {
    dir,
    raw: `${dir}/source.raw`,
    lut: `${dir}/lut.bin`,
    histogram: (i: number) => `${dir}/hist_${i}.bin`,
    strip: (i: number) => `${dir}/strip_${i}.raw`,
    /** Chunked TIFF pages: the page's chunk table, each task's encoded band, preview rows. */
    chunks: `${dir}/chunks.bin`,
    band: (i: number) => `${dir}/band_${i}.bin`,
    previewRows: (i: number) => `${dir}/preview_${i}.bin`,
    decoded: (i: number) => `${dir}/decoded_${i}.raw`,
    /** The result of a chunked page, assembled (and its bands hashed) by its assemble task. */
    assembled: `${dir}/assembled.tif`,
    /** Raw TIFFs: the result, equalized in place by the tasks, renamed into results/ at the end. */
    container: `${dir}/result.tif`,
  };
}
