import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileStore } from '@tus/file-store';
import { writeFileAtomic } from '../../common/atomic-file.js';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http-errors.js';
import { submitStoredFile } from '../stored-file.js';
import { nameFromMetadata, optionsFromMetadata } from './upload-metadata.js';

/** An upload's job, once made: `<id>.job` beside the upload's files, for GET .../job. */
export const jobRecordPath = (dir: string, id: string) => join(dir, `${id}.job`);

/**
 * Turns a finished resumable upload into a job, exactly once per upload (in this process: the
 * master is the only one that completes uploads). The file is submitted like an inbox file
 * (stored-file.ts), so the probe and its refusals are POST /upload's. Either way the upload's
 * own files go: on success the job holds the data through its link in uploads/, and on a
 * refusal nothing is left behind. The job id is recorded, so a client whose final request was
 * cut off (a failover between the last byte and the answer) can still ask for it.
 */
export class UploadCompleter {
  readonly #running = new Map<string, Promise<string>>();

  constructor(
    private readonly deps: WebDeps,
    private readonly store: FileStore,
  ) {}

  complete(id: string): Promise<string> {
    let running = this.#running.get(id);
    if (!running) {
      running = this.#complete(id).finally(() => this.#running.delete(id));
      this.#running.set(id, running);
    }
    return running;
  }

  /** The job made from upload `id`, or null when it has none (yet). */
  async recordedJob(id: string): Promise<string | null> {
    try {
      const record = JSON.parse(await readFile(jobRecordPath(this.store.directory, id), 'utf8'));
      return typeof record?.job_id === 'string' ? (record.job_id as string) : null;
    } catch {
      return null;
    }
  }

  async #complete(id: string): Promise<string> {
    const recorded = await this.recordedJob(id);
    if (recorded) return recorded;
    const upload = await this.store.getUpload(id);
    if (upload.size === undefined || upload.offset !== upload.size) {
      throw new HttpError(
        409,
        `The upload is not complete (${upload.offset} of ${upload.size ?? '?'} bytes): resume it first.`,
      );
    }
    let jobId: string;
    try {
      const options = optionsFromMetadata(upload.metadata);
      jobId = await submitStoredFile(this.deps, {
        source: join(this.store.directory, id),
        originalName: nameFromMetadata(upload.metadata),
        options,
        what: 'this upload',
      });
      this.deps.logger.info(
        {
          jobId,
          uploadId: id,
          name: nameFromMetadata(upload.metadata),
          bytes: upload.size,
          options,
        },
        'upload accepted',
      );
    } catch (err) {
      await this.#removeUpload(id);
      throw err;
    }
    await writeFileAtomic(
      jobRecordPath(this.store.directory, id),
      JSON.stringify({ job_id: jobId }),
    );
    await this.#removeUpload(id);
    return jobId;
  }

  async #removeUpload(id: string): Promise<void> {
    await rm(join(this.store.directory, id), { force: true });
    await rm(join(this.store.directory, `${id}.json`), { force: true });
  }
}
