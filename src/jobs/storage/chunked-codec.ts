import { rename, stat } from 'node:fs/promises';
import type { DoneRecord } from '../../coordination/index.js';
import type { ImageInfo } from '../../imaging/image-info.js';
import { readTiffIfd } from '../../imaging/tiff-ifd.js';
import { bandChunkRows } from '../../imaging/tiff-codec/band.js';
import {
  chunksAcross,
  outputGeometry,
  type ChunkGeometry,
} from '../../imaging/tiff-codec/geometry.js';
import { CHUNK_ENTRY_BYTES, chunkTableOf } from '../../imaging/tiff-codec/page.js';
import { imageBytes } from '../../imaging/types.js';
import type { ImagePool } from '../../pool/image-pool.js';
import type { StripRef } from '../../pool/protocol.js';
import { writeHashedFileAtomic } from '../../pool/strip-io.js';
import type { SharedLayout } from '../paths.js';
import { jobFiles } from '../job-files.js';
import { bandRefs } from '../plan.js';
import type { Assembly } from '../task-spec.js';
import { absoluteAssembly, type JobStorage, type StripOutput } from './job-storage.js';

type CodecInfo = ImageInfo & { codec: ChunkGeometry };

/**
 * A TIFF page stored in compressed strips or tiles: the tasks decode their band (whole chunk
 * rows) as they read it and encode their equalized band like the input, each into a band file;
 * an assemble task writes a new directory and copies the bands' bytes (tiff-codec/assemble.ts).
 * The master never decodes, encodes or copies pixels, so the codec's cost is spread over every
 * pod and the master's work per job does not grow with the image.
 */
export class ChunkedCodec implements JobStorage {
  readonly kind = 'codec';
  readonly source: StripRef;
  readonly extraBytes: number;
  readonly #shared: SharedLayout;
  readonly #upload: string;
  readonly #info: CodecInfo;
  readonly #files: ReturnType<typeof jobFiles>;

  constructor(shared: SharedLayout, id: string, upload: string, info: CodecInfo) {
    this.#shared = shared;
    this.#upload = upload;
    this.#info = info;
    this.#files = jobFiles(shared, id);
    this.source = this.strips(1)[0]!;
    // The bands and the result, each about the size of the upload (LZW of noise grows a little;
    // JPEG re-encoded at quality 95 can be several times a low-quality upload, but stays below
    // the raw samples: 0.84 of them for grey noise), and the decoded bands kept between phases.
    const encoded = Math.ceil(2.5 * info.fileBytes);
    this.extraBytes =
      (info.codec.compression === 7 ? Math.max(encoded, 2 * imageBytes(info.layout)) : encoded) +
      imageBytes(info.layout) +
      this.#tableBytes();
  }

  strips(tasks: number): StripRef[] {
    return bandRefs(this.#info, this.#upload, this.#files.chunks, tasks);
  }

  /** The page's chunk table, written once for the tasks (atomic: a full-size one is finished). */
  async prepareSource(): Promise<void> {
    const table = this.#shared.abs(this.#files.chunks);
    const ready = await stat(table).then(
      (s) => s.size === this.#tableBytes(),
      () => false,
    );
    if (ready) return;
    const ifd = await readTiffIfd(this.#shared.abs(this.#upload), this.#info.page);
    if (!ifd) throw new Error(`${this.#upload} is no longer a TIFF`);
    await writeHashedFileAtomic(table, chunkTableOf(ifd, this.#info.codec.tiled));
  }

  previewPart(index: number): string {
    return this.#files.previewRows(index);
  }

  decodedPart(index: number): string {
    return this.#files.decoded(index);
  }

  async beforeCheck(): Promise<void> {}

  async prepareOutputs(strips: readonly StripRef[]): Promise<StripOutput[]> {
    return strips.map((_, i) => ({ path: this.#files.band(i), encoded: true }));
  }

  /** The band file an equalize task wrote, as a band the check decodes sampled rows of. */
  async written(done: DoneRecord, strip: StripRef): Promise<StripRef> {
    const path = this.#shared.abs(done.pointer);
    const chunks = this.#chunksOf(strip);
    const { size } = await stat(path);
    return {
      path,
      offset: 0,
      layout: strip.layout,
      codec: {
        geometry: outputGeometry(this.#info.codec),
        table: path,
        tableOffset: Math.max(0, size - chunks * CHUNK_ENTRY_BYTES),
        top: strip.codec?.top ?? 0,
      },
    };
  }

  /** The assemble task's work: the result from the bands, written into the job's folder. */
  assembly(dones: readonly DoneRecord[]): { assembly: Assembly; output: string } {
    const strips = this.strips(dones.length);
    return {
      assembly: {
        upload: this.#upload,
        page: this.#info.page,
        bands: dones.map((d, i) => ({
          path: d.pointer,
          chunks: this.#chunksOf(strips[i]!),
          sha256: d.checksum,
        })),
      },
      output: this.#files.assembled,
    };
  }

  /**
   * Publishes what the assemble task wrote; without it (the CLI, which runs no tasks, or a
   * master that died after publishing) assembles straight to `resultPath`, the bands still
   * held to their checksums.
   */
  async finish(pool: ImagePool, dones: readonly DoneRecord[], resultPath: string): Promise<void> {
    const assembled = this.#assembled();
    const staged = await stat(assembled).then(
      () => true,
      () => false,
    );
    if (staged) return rename(assembled, resultPath);
    const { assembly } = this.assembly(dones);
    const request = { ...absoluteAssembly(this.#shared, assembly), outPath: resultPath };
    const { mismatched } = await pool.assemble(request);
    if (mismatched.length > 0) {
      throw new Error(`band(s) ${mismatched.join(', ')} do not match their tasks' checksums`);
    }
  }

  #assembled(): string {
    return this.#shared.abs(this.#files.assembled);
  }

  #chunksOf(strip: StripRef): number {
    const band = strip.codec!;
    return bandChunkRows(band, strip.layout.height) * chunksAcross(band.geometry);
  }

  #tableBytes(): number {
    const g = this.#info.codec;
    return Math.ceil(g.layout.height / g.chunkHeight) * chunksAcross(g) * CHUNK_ENTRY_BYTES;
  }
}
