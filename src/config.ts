/**
 * The only module that reads process.env. Every setting is validated once at start with a
 * clear sentence per mistake; the rest of the code receives typed options.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { HisteqError } from './common/errors.js';
import { usableCpus } from './common/cpus.js';
import { DEFAULT_MAX_DECODED_BYTES } from './imaging/probe.js';
import { DEFAULT_UPLOAD_IDLE_TIMEOUT_MS } from './web/multipart.js';
import { DEFAULT_UPLOAD_RESUME_EXPIRY_MS } from './web/tus/upload-sweeper.js';
import { faultSpecSchema, type FaultSpec } from './jobs/fault-injection.js';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => ['true', '1', 'yes'].includes(v));

const schema = z.object({
  POD_NAME: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS-1123 name like pod-1')
    .optional(),
  POD_NAMESPACE: z.string().min(1).default('default'),
  APP_LABEL: z.string().min(1).default('histeq-array'),
  PORT: int(0, 65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  POD_URL: z.url().optional(),
  POD_IP: z.string().optional(),
  ZK_HOSTS: z
    .string()
    .regex(
      /^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*(\/[A-Za-z0-9_./-]*)?$/,
      'must be host:port[,host:port…][/chroot], e.g. zk-client:2181 or 127.0.0.1:2181/histeq',
    )
    .default('127.0.0.1:2181'),
  ZK_SESSION_TIMEOUT_MS: int(1000, 120_000).default(6000),
  ZK_AUTH: z
    .string()
    .regex(/^[^:\s]+:\S{8,}$/, 'must be user:password with a password of at least 8 characters')
    .optional(),
  SHARED_DIR: z.string().min(1).default('/shared'),
  POOL_THREADS: int(1, 256).optional(),
  POOL_NICE: int(0, 19).default(10),
  CPU_LIMIT: z.coerce.number().positive().optional(),
  // 2^32 pixels: a whole-slide scan; chunked TIFFs are streamed, so memory does not grow with it.
  MAX_PIXELS: int(1).default(2 ** 32),
  MAX_DECODED_BYTES: int(1).default(DEFAULT_MAX_DECODED_BYTES),
  // 2 GiB: a 1-gigapixel 8-bit LZW TIFF of a noisy scan (LZW grows noise a little).
  MAX_UPLOAD_BYTES: int(1).default(2 * 1024 * 1024 * 1024),
  MAX_ACTIVE_JOBS: int(1, 1000).default(4),
  // Fractional hours are allowed (tests use seconds' worth).
  RESULT_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 365 * 100)
    .default(24),
  STORAGE_RESERVE_BYTES: int(0).default(0),
  UPLOAD_RATE_PER_MINUTE: int(0).default(30),
  UPLOAD_IDLE_TIMEOUT_MS: int(100).default(DEFAULT_UPLOAD_IDLE_TIMEOUT_MS),
  UPLOAD_RESUME_EXPIRY_MS: int(1000).default(DEFAULT_UPLOAD_RESUME_EXPIRY_MS),
  // express's `trust proxy`: true, a hop count, or addresses/subnets (comma-separated).
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|\d{1,2}|[0-9A-Za-z.:/, -]+)$/, 'must be true, a hop count, or addresses')
    .optional()
    .transform((v) => {
      if (v === undefined || v === 'false') return undefined;
      if (v === 'true') return true;
      return /^\d+$/.test(v) ? Number(v) : v;
    }),
  METRICS_PORT: int(0, 65535).optional(),
  HEALTH_SAMPLE_MS: int(100, 600_000).default(5_000),
  ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((text, ctx) => {
      const list = (text ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const item of list) {
        let ok = false;
        try {
          ok = new URL(item).origin === item;
        } catch {
          ok = false;
        }
        if (!ok) {
          ctx.addIssue({
            code: 'custom',
            message: `"${item}" is not an origin like https://histeq.example.com`,
          });
          return z.NEVER;
        }
      }
      return list;
    }),
  // Optional shared secret for uploads, downloads, /api and Socket.IO; unset = open as before.
  API_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters (use e.g. `openssl rand -hex 24`)')
    .optional(),
  MIN_PODS: int(1).default(1),
  MASTER_TAKES_TASKS: bool.default(true),
  MAX_TASK_ATTEMPTS: int(1, 100).default(3),
  TASK_TIMEOUT_MS: int(1000).default(120_000),
  DRAIN_TIMEOUT_MS: int(0).default(20_000),
  ROLE_LABELER: z.enum(['auto', 'kubernetes', 'local']).default('auto'),
  KUBERNETES_SERVICE_HOST: z.string().optional(),
  LOCAL_REGISTRY: z.string().optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  LOG_DIR: z.string().min(1).optional(),
  // Test-only (src/jobs/fault-injection.ts): JSON; unset in production.
  FAULT_INJECTION: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (!text) return null;
      try {
        const parsed = faultSpecSchema.safeParse(JSON.parse(text));
        if (parsed.success) return parsed.data;
        ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'invalid' });
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      }
      return z.NEVER;
    }),
});

export interface Config {
  pod: string;
  namespace: string;
  appLabel: string;
  port: number;
  host: string;
  /** How other pods and the front door reach this pod; port 0 is filled in once listening. */
  podUrl: string | undefined;
  zkHosts: string;
  /** Whether ZK_HOSTS was set; when not, local tools (the demos) may start their own ZooKeeper. */
  zkHostsGiven: boolean;
  zkSessionTimeoutMs: number;
  /** `user:password` for ZooKeeper digest ACLs on every znode we create (ZK_AUTH). */
  zkAuth: string | undefined;
  sharedDir: string;
  poolThreads: number;
  /**
   * Niceness of the pool threads (Linux nice is per thread): when the cores are busy, a pod's
   * event loop — ZooKeeper heartbeats, claims, HTTP — runs before pixel work.
   */
  poolNice: number;
  maxPixels: number;
  /** Decoded bytes an upload that must be decoded may claim (decompression bombs). */
  maxDecodedBytes: number;
  maxUploadBytes: number;
  /** At most this many jobs run at once; the rest wait, queued, in order. */
  maxActiveJobs: number;
  /** Finished jobs older than this are pruned by the master (RESULT_TTL_HOURS). */
  resultTtlMs: number;
  /** Free bytes SHARED_DIR must keep beyond an upload's own need (web/upload, orchestrator). */
  storageReserveBytes: number;
  /** Uploads per client IP per minute; 0 = no limit. */
  uploadRatePerMinute: number;
  /** An upload body that makes no progress this long is dropped (408). */
  uploadIdleTimeoutMs: number;
  /** A partial resumable upload that gets no byte this long is removed. */
  resumableUploadExpiryMs: number;
  /** express `trust proxy` for deployments behind an ingress; undefined = trust none. */
  trustProxy: boolean | number | string | undefined;
  /** When set, /metrics is served on this port only (open), not on PORT. */
  metricsPort: number | undefined;
  /** HEALTH_SAMPLE_MS: how often the master samples every pod's health figures. */
  healthSampleMs: number;
  /** Browser origins Socket.IO accepts; empty = the page's own host. */
  allowedOrigins: string[];
  /** When set, uploads, downloads, /api and Socket.IO require it (web/auth.ts). */
  apiToken: string | undefined;
  minPods: number;
  masterTakesTasks: boolean;
  maxTaskAttempts: number;
  taskTimeoutMs: number;
  /** On SIGTERM: how long running tasks may take to finish before they are released. */
  drainTimeoutMs: number;
  labeler: 'kubernetes' | 'local';
  localRegistry: string;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  /**
   * Local mode: the folder of `<pod>.log` files the master follows for the UI's live logs
   * (set by the local launcher). Unset in Kubernetes, where logs come from the API.
   */
  logDir: string | undefined;
  /** Test-only fault injection (FAULT_INJECTION); null in production. */
  faultInjection: FaultSpec | null;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new HisteqError('BAD_CONFIG', `Invalid configuration — ${lines.join('; ')}.`);
  }
  const e = parsed.data;
  const sharedDir = resolve(e.SHARED_DIR);
  const inCluster = Boolean(e.KUBERNETES_SERVICE_HOST);
  return {
    pod: e.POD_NAME ?? hostname().toLowerCase(),
    namespace: e.POD_NAMESPACE,
    appLabel: e.APP_LABEL,
    port: e.PORT,
    host: e.HOST,
    podUrl: e.POD_URL ?? (e.POD_IP ? `http://${e.POD_IP}:${e.PORT}` : undefined),
    zkHosts: e.ZK_HOSTS,
    zkHostsGiven: env.ZK_HOSTS !== undefined,
    zkSessionTimeoutMs: e.ZK_SESSION_TIMEOUT_MS,
    zkAuth: e.ZK_AUTH,
    sharedDir,
    // The Downward API gives the CPU limit in whole cores (divisor 1); never the host's cores.
    poolThreads: e.POOL_THREADS ?? Math.max(1, Math.ceil(e.CPU_LIMIT ?? usableCpus())),
    poolNice: e.POOL_NICE,
    maxPixels: e.MAX_PIXELS,
    maxDecodedBytes: e.MAX_DECODED_BYTES,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    maxActiveJobs: e.MAX_ACTIVE_JOBS,
    resultTtlMs: Math.round(e.RESULT_TTL_HOURS * 3_600_000),
    storageReserveBytes: e.STORAGE_RESERVE_BYTES,
    uploadRatePerMinute: e.UPLOAD_RATE_PER_MINUTE,
    uploadIdleTimeoutMs: e.UPLOAD_IDLE_TIMEOUT_MS,
    resumableUploadExpiryMs: e.UPLOAD_RESUME_EXPIRY_MS,
    trustProxy: e.TRUST_PROXY,
    metricsPort: e.METRICS_PORT,
    healthSampleMs: e.HEALTH_SAMPLE_MS,
    allowedOrigins: e.ALLOWED_ORIGINS,
    apiToken: e.API_TOKEN,
    minPods: e.MIN_PODS,
    masterTakesTasks: e.MASTER_TAKES_TASKS,
    maxTaskAttempts: e.MAX_TASK_ATTEMPTS,
    taskTimeoutMs: e.TASK_TIMEOUT_MS,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    labeler: e.ROLE_LABELER === 'auto' ? (inCluster ? 'kubernetes' : 'local') : e.ROLE_LABELER,
    localRegistry: resolve(e.LOCAL_REGISTRY ?? `${sharedDir}/cluster/master.json`),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    logDir: e.LOG_DIR ? resolve(e.LOG_DIR) : undefined,
    faultInjection: e.FAULT_INJECTION ?? null,
  };
}
