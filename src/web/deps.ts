import type { JobsApi } from '../jobs/types.js';
import type { LiveSettings } from '../jobs/live-settings.js';
import type { EventEmitter } from 'node:events';
import type { Logger } from '../common/log.js';
import type { JobAttemptsEvent, JobStatusEvent } from '../jobs/types.js';
import type { PodFigures } from './health/figures.js';

/** One pod as the cluster view shows it (from `/nodes/<pod>` plus what the master knows). */
export interface PodView {
  pod: string;
  url: string;
  pid: number;
  role: 'master' | 'worker';
  startedAt: string;
  version: string;
  /** Tasks this pod is running now, e.g. `job-abc/histogram/3`. */
  tasks?: string[];
}

export interface ClusterSnapshot {
  master: string | null;
  masterUrl: string | null;
  pods: PodView[];
  zk: { state: string; sessionId: string | null; hosts: string };
  alerts: ClusterAlert[];
}

/** The Socket.IO `cluster_alert` event: `status` is `ok` when an earlier alert has cleared. */
export interface ClusterAlert {
  status: 'ok' | 'degraded' | 'error';
  message: string;
}

/** The Socket.IO `job_deleted` event: every open page drops the job. */
export interface JobDeletedEvent {
  id: string;
}

export interface NodeLogEvent {
  pod: string;
  log: string;
}

/** Events the web layer forwards to browsers (docs/architecture.md, Interfaces). */
export interface WebEvents {
  job_status: [JobStatusEvent];
  job_attempts: [JobAttemptsEvent];
  job_deleted: [JobDeletedEvent];
  cluster: [ClusterSnapshot];
  cluster_alert: [ClusterAlert];
  node_log: [NodeLogEvent];
}

export interface RoleView {
  isMaster: boolean;
  masterPod: string | null;
  masterUrl: string | null;
}

export interface WebDeps {
  logger: Logger;
  pod: string;
  /** SHARED_DIR: uploads/ are written here, results/ are served from here. */
  sharedDir: string;
  maxUploadBytes: number;
  /** STORAGE_RESERVE_BYTES: free space kept beyond an upload's size (507 otherwise). */
  storageReserveBytes?: number;
  /** UPLOAD_RATE_PER_MINUTE per client IP; 0 or absent = no limit. */
  uploadRatePerMinute?: number;
  /** API_TOKEN: when set, uploads, downloads, /api, /metrics and Socket.IO require it. */
  apiToken?: string | undefined;
  /** TRUST_PROXY: express's `trust proxy` (hops, addresses or true); unset: not trusted. */
  trustProxy?: boolean | number | string;
  /** METRICS_PORT: /metrics is served there only (open, for the scraper); unset: on PORT. */
  metricsPort?: number;
  /** ALLOWED_ORIGINS: the browser origins Socket.IO accepts; unset: same host as the page. */
  allowedOrigins?: string[];
  /** UPLOAD_IDLE_TIMEOUT_MS: an upload body that makes no progress this long is dropped. */
  uploadIdleTimeoutMs?: number;
  /** UPLOAD_RESUME_EXPIRY_MS: a partial resumable upload idle this long is removed. */
  resumableUploadExpiryMs?: number;
  role(): RoleView;
  jobs: JobsApi;
  cluster(): ClusterSnapshot;
  events: EventEmitter<WebEvents>;
  /** Ready = ZooKeeper session connected (and, on the master, leadership held). */
  readiness(): { ready: boolean; reason?: string };
  /** Prometheus text for GET /metrics. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** `/config/mapreduce_params` and each pod's converged value (GET/PUT /api/config). */
  settings?: LiveSettings;
  /** Recent `node_log` lines (master only), replayed to a browser that connects late. */
  recentLogs?(): NodeLogEvent[];
  /** This pod's health figures (GET /figures; the master samples every pod's). */
  figures?(): Promise<PodFigures>;
  /** HEALTH_SAMPLE_MS: how often the master samples the pods' figures. Default 5 s. */
  healthSampleMs?: number;
  /** The running jobs' latest `job_attempts` (master only), replayed like `recentLogs`. */
  liveAttempts?(): JobAttemptsEvent[];
}
