import type { TaskKind } from './paths.js';
import type { ImageInfo } from '../imaging/image-info.js';
import type { ClaheParams } from '../imaging/clahe/grid.js';
import type { EqualizeMethod } from '../imaging/clahe/method.js';
import type { ColourMode } from '../imaging/types.js';

/**
 * Every job moves forward through these phases and ends done or failed (docs/architecture.md),
 * or cancelled when a user stops it.
 */
export type JobPhase = 'queued' | 'mapping' | 'reducing' | 'equalizing' | 'stitching';
export type JobState = JobPhase | 'done' | 'failed' | 'cancelled';

/** Every state, in the order a job moves through them (then the three ends). */
export const JOB_STATES: readonly JobState[] = [
  'queued',
  'mapping',
  'reducing',
  'equalizing',
  'stitching',
  'done',
  'failed',
  'cancelled',
];

export const FINISHED_STATES: readonly JobState[] = ['done', 'failed', 'cancelled'];
export const isFinished = (state: JobState): boolean => FINISHED_STATES.includes(state);

export const ACTIVE_STATES: readonly JobState[] = [
  'queued',
  'mapping',
  'reducing',
  'equalizing',
  'stitching',
];

export interface JobOptions {
  mode: ColourMode;
  page: number;
  /** Absent in records of older versions: global. */
  method?: EqualizeMethod;
  /** Set exactly when `method` is `clahe`. */
  clahe?: ClaheParams;
}

/** One task attempt, for the job's timeline (which pod ran what, and when). */
export interface TaskAttempt {
  kind: TaskKind;
  index: number;
  pod: string;
  attempt: number;
  claimedAt: string;
  completedAt?: string;
  /** `released`: given back cleanly by a draining pod (does not count as a failed attempt). */
  outcome: 'done' | 'failed' | 'lost' | 'running' | 'released';
  error?: string;
  /** `worker_threads.threadId` of the pod's pool thread that did a finished attempt's work. */
  thread?: number;
}

/** The job record: JSON in `/jobs/<id>`, the source of truth, updated with version checks. */
export interface JobRecord {
  id: string;
  state: JobState;
  /** The phase the job is in or failed in. */
  phase: JobPhase;
  /** The user's file name, for display only: never used as a path. */
  name: string;
  /** The uploaded file inside SHARED_DIR (relative), decided by the server from the job id. */
  upload: string;
  info: ImageInfo;
  options: JobOptions;
  /** Strips per phase, fixed when the histogram tasks are created, so a resume splits the same. */
  tasks: number;
  /** Tasks done in the current phase. */
  done: number;
  createdAt: string;
  updatedAt: string;
  /** When each phase started (ISO), and how long the finished ones took (ms). */
  phaseStartedAt: Partial<Record<JobState, string>>;
  phaseMs: Partial<Record<JobPhase, number>>;
  /** The download path of the result (only when done). */
  result?: string;
  error?: string;
  /** Attempts of finished tasks (kept after task znodes are removed). */
  attempts: TaskAttempt[];
  /** Pods that acted as master for this job, in order (resumes add to it). */
  masters: string[];
  /** Times tasks were re-opened because their output failed the master's check. */
  reruns?: number;
  /** How long the master's check of the result took (ms), for the bench. */
  checkMs?: number;
  /** The job this one re-runs (a retry or a re-run with other options). */
  retryOf?: string;
}

/** The Socket.IO `job_status` event (docs/architecture.md, Interfaces). The final success event carries `url`. */
export interface JobStatusEvent {
  id: string;
  name: string;
  state: JobState;
  phase: JobPhase;
  done: number;
  total: number;
  msg: string;
  url?: string;
  error?: string;
}

/**
 * The Socket.IO `job_attempts` event: every attempt so far of a running job's tasks, pushed by
 * the master whenever its task boards see a claim, a release or a result (the timeline's data).
 */
export interface JobAttemptsEvent {
  id: string;
  attempts: TaskAttempt[];
}

/** What `GET /api/jobs/<id>` returns: the status plus the record's details for the UI. */
export interface JobView extends JobStatusEvent {
  createdAt: string;
  updatedAt: string;
  info: ImageInfo;
  options: JobOptions;
  phaseMs: Partial<Record<JobPhase, number>>;
  attempts: TaskAttempt[];
  masters: string[];
  /** Times tasks were re-run because their output failed the master's check. */
  reruns?: number;
  /** How long the master's check of the result took (ms). */
  checkMs?: number;
  retryOf?: string;
}

export interface SubmitRequest {
  /** The uploaded file, already inside SHARED_DIR/uploads under a server-chosen name. */
  path: string;
  /** The client's file name, for display only. */
  originalName: string;
  options: JobOptions;
  /** The finished job this submission runs again. */
  retryOf?: string;
}

/** The master's job service; only called while this pod is master. */
export interface JobsApi {
  /** Validates (before anything is created) and queues; rejects with a HisteqError sentence. */
  submit(request: SubmitRequest): Promise<{ id: string }>;
  list(): Promise<JobView[]>;
  get(id: string): Promise<JobView | null>;
  /** The latest job_status of every active or recent job, for a client that connects late. */
  latest(): JobStatusEvent[];
  /**
   * Stops an unfinished job (recorded at once, cleaned up after); rejects with CONFLICT for a
   * finished one and NOT_FOUND for an unknown one.
   */
  cancel(id: string): Promise<JobView>;
  /**
   * Runs a finished job again from its upload as a new job, with its options or `options`;
   * CONFLICT while it runs.
   */
  retry(id: string, options?: JobOptions): Promise<{ id: string }>;
  /** Removes a job with its result, previews and upload, cancelling it first if it runs. */
  remove(id: string): Promise<void>;
}
