import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/common/log.js';
import { HisteqError } from '../../src/common/errors.js';
import {
  isFinished,
  type JobOptions,
  type JobStatusEvent,
  type JobView,
  type SubmitRequest,
} from '../../src/jobs/types.js';
import { newJobId } from '../../src/jobs/paths.js';
import type { JobsApi } from '../../src/jobs/types.js';
import type { ClusterSnapshot, RoleView, WebDeps, WebEvents } from '../../src/web/deps.js';
import { createWebServer, type WebServer } from '../../src/web/server.js';
import { testLogger } from './zk.js';

/**
 * An in-memory job service behind our own JobsApi interface, so the web layer can be tested
 * without ZooKeeper. It keeps what it was asked, and can be told to refuse the next submit.
 */
export class MemoryJobs implements JobsApi {
  readonly submitted: SubmitRequest[] = [];
  readonly jobs = new Map<string, JobView>();
  /** Thrown (once) by the next submit, like the real service's validation would. */
  rejectNext: Error | null = null;

  async submit(request: SubmitRequest): Promise<{ id: string }> {
    this.submitted.push(request);
    const err = this.rejectNext;
    if (err) {
      this.rejectNext = null;
      throw err;
    }
    const id = newJobId();
    const now = new Date().toISOString();
    this.jobs.set(id, {
      id,
      name: request.originalName,
      state: 'queued',
      phase: 'queued',
      done: 0,
      total: 0,
      msg: 'queued',
      createdAt: now,
      updatedAt: now,
      info: {
        format: 'png',
        layout: { width: 4, height: 4, channels: 1, depth: 8 },
        page: 0,
        pages: 1,
        fileBytes: 0,
      },
      options: request.options,
      phaseMs: {},
      attempts: [],
      masters: ['pod-1'],
    });
    return { id };
  }

  async list(): Promise<JobView[]> {
    return [...this.jobs.values()];
  }

  async get(id: string): Promise<JobView | null> {
    return this.jobs.get(id) ?? null;
  }

  /** The same state rules as the real service (jobs/master/job-actions.ts). */
  async cancel(id: string): Promise<JobView> {
    const job = this.#existing(id);
    if (isFinished(job.state)) throw new HisteqError('CONFLICT', `Job ${id} has already ended.`);
    job.state = 'cancelled';
    job.msg = 'cancelled';
    return job;
  }

  async retry(id: string, options?: JobOptions): Promise<{ id: string }> {
    const job = this.#existing(id);
    if (!isFinished(job.state)) throw new HisteqError('CONFLICT', `Job ${id} is still running.`);
    const again = await this.submit({
      path: '',
      originalName: job.name,
      options: options ?? job.options,
      retryOf: id,
    });
    this.jobs.get(again.id)!.retryOf = id;
    return again;
  }

  async remove(id: string): Promise<void> {
    this.#existing(id);
    this.jobs.delete(id);
  }

  #existing(id: string): JobView {
    const job = this.jobs.get(id);
    if (!job) throw new HisteqError('NOT_FOUND', `There is no job with id ${id}.`);
    return job;
  }

  latest(): JobStatusEvent[] {
    return [...this.jobs.values()].map((job) => ({
      id: job.id,
      name: job.name,
      state: job.state,
      phase: job.phase,
      done: job.done,
      total: job.total,
      msg: job.msg,
      ...(job.url ? { url: job.url } : {}),
      ...(job.error ? { error: job.error } : {}),
    }));
  }
}

export interface WebHarness {
  deps: WebDeps;
  jobs: MemoryJobs;
  events: EventEmitter<WebEvents>;
  /** Mutable: tests flip the role and readiness. */
  role: RoleView;
  ready: { ready: boolean; reason?: string };
  sharedDir: string;
  server: WebServer;
  url: string;
  /** The metrics server, when `deps.metricsPort` was given. */
  metricsUrl: string | undefined;
  uploads(): Promise<string[]>;
  close(): Promise<void>;
}

export function clusterSnapshot(): ClusterSnapshot {
  return {
    master: 'pod-1',
    masterUrl: 'http://127.0.0.1:1111',
    pods: [
      {
        pod: 'pod-1',
        url: 'http://127.0.0.1:1111',
        pid: 11,
        role: 'master',
        startedAt: new Date(0).toISOString(),
        version: '0.1.0',
      },
      {
        pod: 'pod-2',
        url: 'http://127.0.0.1:2222',
        pid: 22,
        role: 'worker',
        startedAt: new Date(0).toISOString(),
        version: '0.1.0',
      },
    ],
    zk: { state: 'connected', sessionId: '0x1', hosts: '127.0.0.1:2181' },
    alerts: [],
  };
}

/** A real web server on a loopback port with real files in a temp SHARED_DIR. */
export async function startWebHarness(
  options: {
    pod?: string;
    maxUploadBytes?: number;
    apiToken?: string;
    uploadRatePerMinute?: number;
    storageReserveBytes?: number;
    /** Any other dependency, e.g. `uploadIdleTimeoutMs` or `metricsPort`. */
    deps?: Partial<WebDeps>;
    /** SHARED_DIR at this relative path inside the temp folder (e.g. `.local/shared`). */
    sharedSubdir?: string;
    logger?: Logger;
  } = {},
): Promise<WebHarness> {
  const pod = options.pod ?? 'pod-1';
  const tempDir = await mkdtemp(join(tmpdir(), 'histeq-web-'));
  const sharedDir = options.sharedSubdir ? join(tempDir, options.sharedSubdir) : tempDir;
  await mkdir(sharedDir, { recursive: true });
  const jobs = new MemoryJobs();
  const events = new EventEmitter<WebEvents>();
  const role: RoleView = { isMaster: true, masterPod: pod, masterUrl: 'http://127.0.0.1:1111' };
  const ready: { ready: boolean; reason?: string } = { ready: true };
  const deps: WebDeps = {
    logger: options.logger ?? testLogger('web', pod),
    pod,
    sharedDir,
    maxUploadBytes: options.maxUploadBytes ?? 1024 * 1024,
    apiToken: options.apiToken,
    uploadRatePerMinute: options.uploadRatePerMinute,
    storageReserveBytes: options.storageReserveBytes,
    role: () => ({ ...role }),
    jobs,
    cluster: clusterSnapshot,
    events,
    readiness: () => ({ ...ready }),
    metrics: async () => ({
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      body: 'histeq_up 1\n',
    }),
    ...options.deps,
  };
  const server = createWebServer(deps);
  const { port, metricsPort } = await server.listen(0, '127.0.0.1');
  return {
    deps,
    jobs,
    events,
    role,
    ready,
    sharedDir,
    server,
    url: `http://127.0.0.1:${port}`,
    metricsUrl: metricsPort === undefined ? undefined : `http://127.0.0.1:${metricsPort}`,
    uploads: () => readdir(join(sharedDir, 'uploads')).catch(() => []),
    async close() {
      await server.close();
      await rm(tempDir, { recursive: true, force: true });
    },
  };
}

/** Before each test: this pod is the ready master again, with no submissions or refusal queued. */
export function resetHarness(h: WebHarness): void {
  Object.assign(h.role, { isMaster: true, masterPod: 'pod-1', masterUrl: 'http://127.0.0.1:1111' });
  h.ready.ready = true;
  h.jobs.submitted.length = 0;
  h.jobs.rejectNext = null;
}
