import { mkdir } from 'node:fs/promises';
import { errorCode, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { isZkError, type DoneRecord } from '../../coordination/index.js';
import type { StripRef } from '../../pool/protocol.js';
import type { TaskPayload } from '../task-spec.js';
import type { Lut } from '../../imaging/types.js';
import { tasksPath, type TaskKind } from '../paths.js';
import { collectAttempts } from './attempts.js';
import { writeJobPreviews, writeStats } from './job-previews.js';
import { jobStats } from './job-stats.js';
import { jobFiles } from '../job-files.js';
import { assembleTaskOps, createTaskOps, jobStrips, removalOps } from './phase-tasks.js';
import { storageFor, type JobStorage } from '../storage/job-storage.js';
import { waitForPhase, type PhaseOutcome } from './phase-waiter.js';
import {
  checkHistograms,
  checkResult,
  mismatchedStrips,
  reopenOps,
  type StripProblem,
} from './result-check.js';
import { readHistogram, readLut } from '../task-files.js';
import { writeHashedFileAtomic } from '../../pool/strip-io.js';
import type { JobPhase, JobRecord, JobState } from '../types.js';
import { movedTo } from './state-change.js';
import { cleanUpJob } from './job-cleanup.js';
import type { OrchestratorOptions } from './orchestrator-options.js';
import { ProgressWriter } from './progress-writer.js';
import { doneRecord, doneRecords, failureReason } from './task-outcomes.js';

/** A runner's part of the master's job service, and where it reports record changes. */
export type JobRunnerDeps = Pick<
  OrchestratorOptions,
  | 'session'
  | 'boards'
  | 'store'
  | 'claims'
  | 'pool'
  | 'shared'
  | 'logger'
  | 'taskTimeoutMs'
  | 'faults'
> & {
  /** Called after every change of a job's record, for job_status events. */
  onUpdate: (record: JobRecord, msg: string) => void;
};

const PHASE_OF_KIND: Record<TaskKind, JobPhase> = {
  histogram: 'mapping',
  equalize: 'equalizing',
  assemble: 'stitching',
};

/** Re-opened tasks per job before a result that keeps failing its check fails the job. */
export const MAX_RERUNS = 3;

/**
 * Drives one job from its recorded state to done or failed. Each step is idempotent and starts
 * from what the record says, so a new master resumes any job by simply running it again.
 * Every record change is fenced (JobStore), so a deposed master cannot move a job.
 */
export class JobRunner {
  readonly #d: JobRunnerDeps;
  readonly #id: string;
  readonly #signal: AbortSignal;
  readonly #log: Logger;
  readonly #progress: ProgressWriter;
  #previews: Promise<void> | undefined;
  /** The done records of the phase that just ended, read while its end was recorded. */
  #dones: { kind: TaskKind; records: Promise<DoneRecord[]> } | null = null;
  /**
   * The record as this runner's last state change wrote it, for the next step: the master is
   * the records' only writer, so reading it back would cost a round trip per step for nothing
   * (and every write is fenced and version-checked anyway). Used once, then read afresh.
   */
  #written: JobRecord | null;
  /** Set once the job is finished and cleaned up: run() ends. */
  #ended = false;

  constructor(deps: JobRunnerDeps, id: string, signal: AbortSignal, start?: JobRecord) {
    this.#d = deps;
    this.#id = id;
    this.#signal = signal;
    this.#log = deps.logger.child({ job: id });
    this.#written = start ?? null;
    this.#progress = new ProgressWriter(deps.store, deps.onUpdate);
  }

  async run(): Promise<void> {
    for (;;) {
      if (this.#ended) return;
      this.#signal.throwIfAborted();
      // A record this runner just wrote began its phase here; one read began it elsewhere.
      const resumed = this.#written === null;
      const job = this.#written ?? (await this.#d.store.read(this.#id))?.record;
      this.#written = null;
      if (!job) return;
      try {
        switch (job.state) {
          case 'done':
          case 'failed':
          case 'cancelled':
            await cleanUpJob(this.#d.session, this.#d.shared, job, this.#log);
            return;
          case 'queued':
            await this.#startMapping(job);
            break;
          case 'mapping':
          case 'equalizing':
            await this.#waitPhase(job, job.state === 'mapping' ? 'histogram' : 'equalize', resumed);
            break;
          case 'reducing':
            await this.#reduce(job);
            break;
          case 'stitching':
            await this.#stitch(job);
            break;
        }
      } catch (err) {
        if (this.#signal.aborted || !isJobError(err)) throw err;
        await this.#fail(job, errorMessage(err));
      }
    }
  }

  /** queued → mapping: make the source readable (idempotent) and create the histogram tasks. */
  async #startMapping(job: JobRecord): Promise<void> {
    await mkdir(this.#d.shared.abs(jobFiles(this.#d.shared, job.id).dir), { recursive: true });
    const storage = this.#storage(job);
    if (storage.kind === 'staged') this.#d.onUpdate(job, 'decoding the image for its tasks');
    await storage.prepareSource(this.#d.pool);
    await this.#d.faults?.masterStep('split', job.id);
    await this.#advance(job, 'mapping', 'splitting done; histogram tasks created', (next) =>
      createTaskOps(this.#d.shared, next, 'histogram'),
    );
  }

  async #waitPhase(job: JobRecord, kind: TaskKind, resumed: boolean): Promise<void> {
    const outcome = await this.#tasksDone(job, kind, job.tasks, resumed, (done) =>
      this.#progress.record(job.id, PHASE_OF_KIND[kind], done),
    );
    if (!outcome.ok) {
      const reason = await failureReason(this.#d.claims, job.id, kind, outcome.failedIndex);
      await this.#fail(job, `The ${kind} task ${outcome.failedIndex} failed: ${reason}`);
      return;
    }
    // The next step starts with every task's done record: read while the state change is
    // written. They are final: only this runner re-opens a done task, after reading them.
    const records = doneRecords(this.#d.claims, job, kind);
    records.catch(() => {}); // a step that does not take them reads afresh
    this.#dones = { kind, records };
    const next = kind === 'histogram' ? 'reducing' : 'stitching';
    await this.#advance(job, next, `all ${job.tasks} ${kind} tasks done`);
  }

  #tasksDone(
    job: JobRecord,
    kind: TaskKind,
    total: number,
    resumed: boolean,
    onProgress: (done: number) => Promise<void> | void,
  ): Promise<PhaseOutcome> {
    return waitForPhase({
      session: this.#d.session,
      boards: this.#d.boards,
      claims: this.#d.claims,
      logger: this.#log,
      job: job.id,
      kind,
      total,
      taskTimeoutMs: this.#d.taskTimeoutMs,
      signal: this.#signal,
      resumed,
      onProgress,
    });
  }

  /** reducing → equalizing: sum the histograms, build the LUT, create the equalize tasks. */
  async #reduce(job: JobRecord): Promise<void> {
    const files = jobFiles(this.#d.shared, job.id);
    await this.#d.faults?.masterStep('reduce', job.id);
    // Where the equalized strips go does not depend on the LUT: planned meanwhile (idempotent,
    // so a reduce that ends in a re-run instead has only made the same plan early).
    const outputs = this.#storage(job).prepareOutputs(jobStrips(this.#d.shared, job));
    outputs.catch(() => {}); // awaited below unless the histograms are re-run
    const dones = await this.#takeDones(job, 'histogram');
    const histograms = await Promise.all(
      dones.map((done) => readHistogram(this.#d.shared.abs(done.pointer), done.checksum)),
    );
    const miscounted = checkHistograms(job, histograms);
    if (miscounted.length > 0) return this.#rerun(job, 'histogram', miscounted);
    const { lut, histogram } = await this.#d.pool.lut(
      histograms,
      job.info.layout,
      job.options.mode,
      job.options.clahe,
    );
    // The UI's histograms and CDFs follow from the global histogram and the LUT alone (CLAHE
    // has neither: its output depends on position too).
    const stats = job.options.clahe
      ? null
      : jobStats(job.id, histogram, lut, job.info.layout, job.options.mode);
    await Promise.all([
      stats ? writeStats(this.#d.shared, stats, this.#log) : null,
      writeHashedFileAtomic(
        this.#d.shared.abs(files.lut),
        new Uint8Array(lut.buffer, lut.byteOffset, lut.byteLength),
      ),
    ]);
    // Previews need only the source and the LUT: made while the pods equalize (#stitch awaits).
    this.#previews = this.#writePreviews(job, lut);
    const planned = await outputs;
    await this.#advance(job, 'equalizing', 'LUT built; equalize tasks created', (next) =>
      createTaskOps(this.#d.shared, next, 'equalize', planned),
    );
  }

  /**
   * stitching → done: check every strip, join them into the result (a chunked page's on a
   * pod, by its assemble task), record the attempts, clean up. A strip that fails the check,
   * or whose bytes the assembly finds are not its task's, is re-opened instead (#rerun): a
   * wrong image never ships.
   */
  async #stitch(job: JobRecord): Promise<void> {
    await this.#d.faults?.masterStep('stitch', job.id);
    const files = jobFiles(this.#d.shared, job.id);
    const name = this.#d.shared.resultName(job.id, job.info.format);
    const resultPath = `${this.#d.shared.results}/${name}`;
    const storage = this.#storage(job);
    const [dones, lut] = await Promise.all([
      this.#takeDones(job, 'equalize'),
      readLut(this.#d.shared.abs(files.lut), job.info.layout),
      storage.beforeCheck(resultPath),
      mkdir(this.#d.shared.results, { recursive: true }),
    ]);
    // The tasks' histories are final once every task is done (an assemble task's once it is):
    // read while the strips are checked, or while an assembled result is published.
    let attempts = storage.assembly ? null : collectAttempts(this.#d.claims, job);
    attempts?.catch(() => {}); // awaited below unless the check re-runs strips
    const checkStarted = performance.now();
    const problems = await checkResult(this.#d.pool, this.#d.shared, job, dones, lut);
    if (problems.length > 0) return this.#rerun(job, 'equalize', problems);
    const checkMs = Math.round(performance.now() - checkStarted);
    this.#log.info({ ms: checkMs, strips: dones.length }, 'result checked');
    if (storage.assembly) {
      const mismatched = await this.#assembleOnAPod(job, storage.source, storage.assembly(dones));
      if (mismatched === null) return; // the job failed
      if (mismatched.length > 0) return this.#rerun(job, 'equalize', mismatchedStrips(mismatched));
    }
    attempts ??= collectAttempts(this.#d.claims, job);
    attempts.catch(() => {}); // awaited once the result is published
    await storage.finish(this.#d.pool, dones, resultPath);
    await this.#d.faults?.masterStep('published', job.id);
    // Previews before `done`, so a page that sees the job done can show them at once (a
    // resumed job makes them here; the LUT is on the shared volume).
    const previews = this.#previews ?? this.#writePreviews(job, lut);
    const [attemptList] = await Promise.all([attempts, previews]);
    const done = await this.#advance(job, 'done', 'done', () => [], {
      result: `/download/${name}`,
      attempts: attemptList,
      checkMs,
    });
    if (done) await this.#end(done);
  }

  /**
   * Has the job's assemble task join its strips, on whichever pod claims it. The task is made
   * once (a master resuming the job waits for the same one; a re-run removes it). Returns the
   * strips whose bytes were not their tasks', or null when the task failed for good and so
   * did the job.
   */
  async #assembleOnAPod(
    job: JobRecord,
    source: StripRef,
    work: Pick<TaskPayload, 'assembly' | 'output'>,
  ): Promise<number[] | null> {
    // A re-made task numbers its attempts on from the removed one's (recorded in the job).
    const before = Math.max(
      0,
      ...job.attempts.filter((a) => a.kind === 'assemble').map((a) => a.attempt),
    );
    const ops = assembleTaskOps(job, source, work, before);
    const created = await this.#d.store.commit(ops).then(
      () => true,
      (err: unknown) => {
        if (isZkError(err, 'NODE_EXISTS')) return false;
        throw err;
      },
    );
    this.#d.onUpdate(job, 'strips checked; a pod assembles the result');
    const outcome = await this.#tasksDone(job, 'assemble', 1, !created, () => {});
    if (!outcome.ok) {
      const reason = await failureReason(this.#d.claims, job.id, 'assemble', 0);
      await this.#fail(job, `Assembling the result failed: ${reason}`);
      return null;
    }
    const { mismatched } = await doneRecord(this.#d.claims, job, 'assemble', 0);
    if (!Array.isArray(mismatched) || !mismatched.every((i) => Number.isInteger(i))) {
      throw new Error(`the assemble task of job ${job.id} recorded no list of mismatched strips`);
    }
    return mismatched as number[];
  }

  /**
   * Re-opens the tasks whose output failed a check, moving the job back to their phase in one
   * fenced transaction: their `done` goes, and a marker in the phase folder tells every pod's
   * board to read its finished tasks again. A job whose result keeps failing fails instead.
   */
  async #rerun(job: JobRecord, kind: TaskKind, problems: StripProblem[]): Promise<void> {
    const what = problems.map((p) => `strip ${p.index}: ${p.problem}`).join('; ');
    const reruns = (job.reruns ?? 0) + 1;
    if (reruns > MAX_RERUNS) {
      await this.#fail(job, `The result failed its check ${MAX_RERUNS} times (${what}).`);
      return;
    }
    this.#log.error({ kind, problems, reruns }, 'task output failed the check; re-running');
    const folder = tasksPath(job.id, kind);
    // Re-run strips make a new result: an assemble task of the old ones goes in the same move.
    const [reopen, assembly] = await Promise.all([
      reopenOps(this.#d.session, job.id, kind, problems, reruns),
      kind === 'equalize' ? removalOps(this.#d.session, [tasksPath(job.id, 'assemble')]) : [],
    ]);
    const ops = [...reopen, ...(assembly ?? [])];
    // The removed assemble task's attempts stay in the record (the timeline shows them).
    const attempts = assembly?.length ? await collectAttempts(this.#d.claims, job) : job.attempts;
    const moved = await this.#advance(
      job,
      PHASE_OF_KIND[kind],
      `re-running ${problems.length} ${kind} task(s) whose output failed the check`,
      () => ops,
      { reruns, attempts },
    );
    if (moved) this.#d.boards.refresh(folder);
  }

  #writePreviews(job: JobRecord, lut: Lut): Promise<void> {
    return writeJobPreviews(this.#d.shared, this.#d.pool, this.#storage(job), job, lut, this.#log);
  }

  /** The done records the phase's end read meanwhile, once; else read now (a resumed job). */
  #takeDones(job: JobRecord, kind: TaskKind): Promise<DoneRecord[]> {
    const read = this.#dones?.kind === kind ? this.#dones.records : null;
    this.#dones = null;
    return read ?? doneRecords(this.#d.claims, job, kind);
  }

  #storage(job: JobRecord): JobStorage {
    return storageFor(this.#d.shared, job.id, job.upload, job.info);
  }

  async #fail(job: JobRecord, error: string): Promise<void> {
    this.#log.error({ error }, 'job failed');
    const attempts = await collectAttempts(this.#d.claims, job).catch(() => job.attempts);
    const failed = await this.#advance(job, 'failed', error, () => [], { error, attempts });
    if (failed) await this.#end(failed);
  }

  /** Cleans up a job this runner just finished, at once (even if leadership is going). */
  async #end(job: JobRecord): Promise<void> {
    await cleanUpJob(this.#d.session, this.#d.shared, job, this.#log);
    this.#ended = true;
  }

  /**
   * Moves the job from its current state to `to` in one fenced transaction with `extraOps`.
   * Returns null (and changes nothing) if someone else moved it first.
   */
  async #advance(
    job: JobRecord,
    to: JobState,
    msg: string,
    extraOps: (next: JobRecord) => ReturnType<typeof createTaskOps> = () => [],
    patch: Partial<JobRecord> = {},
  ): Promise<JobRecord | null> {
    await this.#progress.settled();
    let moved = false;
    const record = await this.#d.store.update(
      job.id,
      (r) => {
        if (r.state !== job.state) return null;
        moved = true;
        return movedTo(r, to, patch, new Date());
      },
      extraOps,
    );
    if (!moved) return null;
    this.#written = record;
    this.#log.info({ state: to, phaseMs: record.phaseMs }, msg);
    this.#d.onUpdate(record, msg);
    return record;
  }
}

/** Errors that belong to the job (bad data), not to the master (lost leadership, ZooKeeper). */
function isJobError(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'BAD_INPUT' || code === 'UNSUPPORTED_FORMAT' || code === 'TASK_FAILED';
}
