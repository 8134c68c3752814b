import { rename, stat } from 'node:fs/promises';
import type { DoneRecord } from '../../coordination/index.js';
import type { ImageInfo } from '../../imaging/image-info.js';
import { createTiffContainer } from '../../imaging/raw-tiff.js';
import { imageBytes } from '../../imaging/types.js';
import type { StripRef } from '../../pool/protocol.js';
import type { SharedLayout } from '../paths.js';
import { jobFiles } from '../job-files.js';
import { stripRefs } from '../plan.js';
import type { JobStorage, StripOutput } from './job-storage.js';

/**
 * An uncompressed, contiguous TIFF page already holds the decoded samples: tasks read their
 * strips from the upload itself and write them by offset into a result container sized for the
 * image, so nothing is decoded or encoded and finishing is a rename. Re-running a task writes
 * the same bytes to the same place, and re-creating the container never truncates it.
 */
export class RawInPlace implements JobStorage {
  readonly kind = 'raw in place';
  readonly source: StripRef;
  readonly extraBytes: number;
  readonly #shared: SharedLayout;
  readonly #container: string;

  constructor(
    shared: SharedLayout,
    id: string,
    upload: string,
    info: ImageInfo & { rawOffset?: number },
  ) {
    this.#shared = shared;
    this.#container = jobFiles(shared, id).container;
    this.source = { path: upload, offset: info.rawOffset ?? 0, layout: info.layout };
    this.extraBytes = imageBytes(info.layout); // the result only
  }

  strips(tasks: number): StripRef[] {
    return stripRefs(this.source.path, this.source.layout, tasks, this.source.offset);
  }

  async prepareSource(): Promise<void> {}

  async written(done: DoneRecord, strip: StripRef): Promise<StripRef> {
    const offset = typeof done.offset === 'number' ? done.offset : 0;
    return { path: this.#shared.abs(done.pointer), offset, layout: strip.layout };
  }

  async beforeCheck(resultPath: string): Promise<void> {
    const container = this.#shared.abs(this.#container);
    if (await exists(container)) return;
    // Published by a master that died before `done`: take it back (atomic; nobody was told the
    // job is done, so nobody downloads it), check it, and publish it again.
    if (await exists(resultPath)) await rename(resultPath, container);
  }

  async prepareOutputs(strips: readonly StripRef[]): Promise<StripOutput[]> {
    const pixelOffset = await createTiffContainer(
      this.#shared.abs(this.#container),
      this.source.layout,
    );
    return strips.map((strip) => ({
      path: this.#container,
      offset: pixelOffset + (strip.offset - this.source.offset),
    }));
  }

  /** Publishing is a rename (atomic); a resumed finish finds the result already published. */
  async finish(_pool: unknown, _dones: readonly DoneRecord[], resultPath: string): Promise<void> {
    try {
      await rename(this.#shared.abs(this.#container), resultPath);
    } catch (err) {
      if (!(await exists(resultPath))) throw err;
    }
  }
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
