import { stat } from 'node:fs/promises';
import type { DoneRecord } from '../../coordination/index.js';
import type { ImageInfo } from '../../imaging/image-info.js';
import { imageBytes } from '../../imaging/types.js';
import type { ImagePool } from '../../pool/image-pool.js';
import type { StripRef } from '../../pool/protocol.js';
import type { SharedLayout } from '../paths.js';
import { jobFiles } from '../job-files.js';
import { stripRefs } from '../plan.js';
import type { JobStorage, StripOutput } from './job-storage.js';

/**
 * Anything that cannot be read by band (compressed or tiled TIFFs, PNG, JPEG, odd layouts):
 * decoded once into a raw file every task reads its strip from; tasks write strip files, and the
 * master encodes the joined strips like the input.
 */
export class Staged implements JobStorage {
  readonly kind = 'staged';
  readonly source: StripRef;
  readonly extraBytes: number;
  readonly #shared: SharedLayout;
  readonly #upload: string;
  readonly #info: ImageInfo;
  readonly #files: ReturnType<typeof jobFiles>;

  constructor(shared: SharedLayout, id: string, upload: string, info: ImageInfo) {
    this.#shared = shared;
    this.#upload = upload;
    this.#info = info;
    this.#files = jobFiles(shared, id);
    this.source = { path: this.#files.raw, offset: 0, layout: info.layout };
    this.extraBytes = 3 * imageBytes(info.layout); // the raw file, the strips and the result
  }

  strips(tasks: number): StripRef[] {
    return stripRefs(this.source.path, this.source.layout, tasks);
  }

  async written(done: DoneRecord, strip: StripRef): Promise<StripRef> {
    return { path: this.#shared.abs(done.pointer), offset: 0, layout: strip.layout };
  }

  /** Staging writes atomically, so a raw file of the full size is a finished one: decode once. */
  async prepareSource(pool: ImagePool): Promise<void> {
    const raw = this.#shared.abs(this.#files.raw);
    const staged = await stat(raw).then(
      (s) => s.size === imageBytes(this.#info.layout),
      () => false,
    );
    if (!staged) await pool.stage(this.#shared.abs(this.#upload), this.#info, raw);
  }

  /** Strip files stay where their tasks wrote them until the job's cleanup. */
  async beforeCheck(): Promise<void> {}

  async prepareOutputs(strips: readonly StripRef[]): Promise<StripOutput[]> {
    return strips.map((_, i) => ({ path: this.#files.strip(i) }));
  }

  async finish(pool: ImagePool, dones: readonly DoneRecord[], resultPath: string): Promise<void> {
    await pool.stitch(
      dones.map((d) => this.#shared.abs(d.pointer)),
      this.#info,
      resultPath,
      dones.map((d) => d.checksum),
    );
  }
}
