import type { Logger } from '../../common/log.js';
import type { TaskClaims, ZkSession } from '../../coordination/index.js';
import type { ImagePool } from '../../pool/image-pool.js';
import type { FaultInjector } from '../fault-injection.js';
import type { JobStore } from '../job-store.js';
import type { ParamsWatcher } from '../mapreduce-params.js';
import type { SharedLayout } from '../paths.js';
import type { TaskBoards } from '../shared-boards.js';

/** What the master's job service is built from; each job's runner takes a part of it. */
export interface OrchestratorOptions {
  session: ZkSession;
  /** The pod's task boards, shared with its task loop. */
  boards: TaskBoards;
  store: JobStore;
  claims: TaskClaims;
  pool: ImagePool;
  shared: SharedLayout;
  params: ParamsWatcher;
  logger: Logger;
  pod: string;
  maxPixels: number;
  /** MAX_DECODED_BYTES: an image that must be decoded is refused past this many bytes. */
  maxDecodedBytes?: number;
  /** MAX_ACTIVE_JOBS: more unfinished jobs wait, `queued`, in order. Default 4. */
  maxActiveJobs?: number;
  /** RESULT_TTL_HOURS in ms; finished jobs older than this are pruned. Unset: kept forever. */
  resultTtlMs?: number;
  /** STORAGE_RESERVE_BYTES: free space kept beyond a job's own need. */
  storageReserveBytes?: number;
  taskTimeoutMs: number;
  /** Live pods that take tasks now (for the default task count). */
  taskPods: () => number;
  /** Null when the cluster may take jobs, else the sentence to refuse them with. */
  degraded: () => string | null;
  /** Test-only fault hooks (fault-injection.ts); inert by default. */
  faults?: FaultInjector;
}
