import { writeFileAtomic } from '../common/atomic-file.js';
import { link, mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { HisteqError, errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { SerialRoleLabeler } from './role-labeler.js';

/** What the local registry file (e.g. `<stateDir>/master.json`) says about the master. */
export interface LocalMasterRecord {
  pod: string;
  /** Base URL the front door proxies to, e.g. `http://127.0.0.1:41234`. */
  url: string;
  pid: number;
  /** ISO time this pod first published itself as master. */
  since: string;
}

const recordSchema = z.object({
  pod: z.string().min(1),
  url: z.string().min(1),
  pid: z.number().int().positive(),
  since: z.string().min(1),
});

export interface LocalLabelerOptions {
  /** Registry file shared by every local pod and the front door. */
  registryPath: string;
  pod: string;
  url: string;
  logger: Logger;
  /** Defaults to this process; tests set it to tell two "pods" in one process apart. */
  pid?: number;
}

/**
 * Reads the local registry. Returns null when there is no master (file absent) or the file is
 * unreadable or corrupt: the front door then answers "no master yet" instead of crashing.
 */
export async function readLocalMaster(registryPath: string): Promise<LocalMasterRecord | null> {
  let text: string;
  try {
    text = await readFile(registryPath, 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = recordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * The local stand-in for the `role=master` pod label: a small JSON file naming the master.
 * Writes go to a temporary file that is renamed into place, so a reader sees the old record
 * or the new one, never half of one.
 */
export class LocalRoleLabeler extends SerialRoleLabeler {
  private readonly pid: number;
  private tmpCounter = 0;

  constructor(private readonly options: LocalLabelerOptions) {
    super(options.logger.child({ component: 'local-labeler' }));
    this.pid = options.pid ?? process.pid;
  }

  protected async publish(): Promise<void> {
    const { registryPath, pod, url } = this.options;
    const existing = await readLocalMaster(registryPath);
    // Keep `since` when re-publishing, so it says when this pod took over, not when it last
    // confirmed.
    const since = existing && this.isMine(existing) ? existing.since : new Date().toISOString();
    const record: LocalMasterRecord = { pod, url, pid: this.pid, since };
    try {
      await mkdir(path.dirname(registryPath), { recursive: true });
      await this.writeAtomically(registryPath, JSON.stringify(record) + '\n');
    } catch (err) {
      this.logger.error(
        { registryPath, err: errorMessage(err) },
        'cannot write local master registry',
      );
      throw new HisteqError(
        'INTERNAL',
        `cannot write master registry ${registryPath}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    if (!this.published) {
      this.logger.info({ registryPath, replaced: existing?.pod }, 'published as local master');
    }
    this.published = true;
  }

  /**
   * Removes the registry only if it still names this pod and process. A record that is not
   * ours is never touched. Ours is renamed aside (atomic) and inspected; if a newer master
   * wrote its record in between, that one is put back with link(), which never overwrites, so
   * an old master (or a restarted pod clearing its predecessor's record) can never delete or
   * clobber the record of the pod that replaced it.
   */
  protected async unpublish(): Promise<void> {
    const { registryPath } = this.options;
    const current = await readLocalMaster(registryPath);
    if (current && !this.isMine(current)) {
      this.published = false;
      return;
    }
    const aside = this.tempName(registryPath, 'stepdown');
    try {
      await rename(registryPath, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.published = false;
      return; // nothing published at all
    }
    const record = await readLocalMaster(aside);
    if (record && !this.isMine(record)) {
      await link(aside, registryPath).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err; // an even newer record is in place already
      });
      await rm(aside, { force: true });
      this.logger.info({ master: record.pod }, 'registry names another master; left in place');
    } else {
      await rm(aside, { force: true });
      if (this.published) this.logger.info('no longer the local master');
    }
    this.published = false;
  }

  private isMine(record: LocalMasterRecord): boolean {
    return record.pod === this.options.pod && record.pid === this.pid;
  }

  private writeAtomically(file: string, content: string): Promise<void> {
    return writeFileAtomic(file, content, { mode: 0o644 });
  }

  /** Unique per pod, process and call, so concurrent writers never share a temp file. */
  private tempName(file: string, purpose: string): string {
    return `${file}.${this.options.pod}.${this.pid}.${++this.tmpCounter}.${purpose}.tmp`;
  }
}
