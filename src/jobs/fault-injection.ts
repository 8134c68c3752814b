import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { HisteqError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { TaskKind } from './paths.js';

/**
 * TEST-ONLY fault injection, read once from the `FAULT_INJECTION` environment variable (JSON)
 * by config.ts. It lets the fault tests and `npm run chaos` hit an exact phase or task with a
 * slow step, a poisoned task or a crash, deterministically instead of by lucky timing. Unset
 * (the default, and always in production) every hook returns at once and does nothing.
 *
 * ```json
 * {
 *   "delayMs": {"histogram": 2000, "equalize/1": 500, "split": 3000, "reduce": 3000, "stitch": 3000},
 *   "slowTask": {"task": "histogram/1", "ms": 8000},
 *   "poisonTask": "histogram/2",
 *   "crashAfterOutputTask": "equalize/1",
 *   "wrongLutTask": "equalize/2",
 *   "tornWriteTask": "equalize/0"
 * }
 * ```
 * - `delayMs`: every attempt of a task kind (`histogram`, `equalize`, `assemble`), of one task
 *   (`<kind>/<index>`), or a master step (`split` after staging, `reduce` before the LUT,
 *   `stitch` before stitching, `published` after the result is in place and before `done`)
 *   takes this much longer.
 * - `slowTask`: only the first attempt of that task sleeps `ms` before working (timeouts).
 * - `poisonTask`: every attempt of that task fails.
 * - `crashAfterOutputTask`: the first attempt writes its output, then its pod dies (SIGKILL)
 *   before marking the task done.
 * - `wrongLutTask`: the first attempt applies a LUT with every entry off by one, and records the
 *   checksum of what it wrote (a wrong result that checksums cannot catch).
 * - `tornWriteTask`: the first attempt's output is overwritten after its checksum was taken
 *   (a torn or lost write).
 */
const taskRef = z
  .string()
  .regex(/^(histogram|equalize|assemble)\/\d+$/, 'must look like histogram/2');

export const faultSpecSchema = z
  .object({
    delayMs: z.record(z.string(), z.number().int().min(0).max(600_000)).optional(),
    slowTask: z.object({ task: taskRef, ms: z.number().int().min(0).max(600_000) }).optional(),
    poisonTask: taskRef.optional(),
    crashAfterOutputTask: taskRef.optional(),
    wrongLutTask: taskRef.optional(),
    tornWriteTask: taskRef.optional(),
  })
  .strict();

export type FaultSpec = z.infer<typeof faultSpecSchema>;
export type MasterStep = 'split' | 'reduce' | 'stitch' | 'published';

export class FaultInjector {
  readonly #spec: FaultSpec | null;
  readonly #log: Logger | null;

  constructor(spec: FaultSpec | null, logger: Logger | null = null) {
    this.#spec = spec;
    this.#log = logger;
  }

  /** Inert: what every pod uses unless FAULT_INJECTION is set. */
  static readonly none = new FaultInjector(null);

  /** Before a task's work: delays, the slow first attempt, the poison. */
  async beforeTask(kind: TaskKind, index: number, attempt: number): Promise<void> {
    const spec = this.#spec;
    if (!spec) return;
    const task = `${kind}/${index}`;
    const delay = (spec.delayMs?.[kind] ?? 0) + (spec.delayMs?.[task] ?? 0);
    const slow = spec.slowTask?.task === task && attempt === 1 ? spec.slowTask.ms : 0;
    if (delay + slow > 0) {
      this.#log?.warn({ task, attempt, ms: delay + slow }, 'fault injection: slow task');
      await sleep(delay + slow);
    }
    if (spec.poisonTask === task) {
      this.#log?.warn({ task, attempt }, 'fault injection: poison task');
      throw new HisteqError('INTERNAL', `injected fault: ${task} is poisoned`);
    }
  }

  /** After a task wrote its output and before it is marked done: the crash. */
  afterOutput(kind: TaskKind, index: number, attempt: number): void {
    if (this.#spec?.crashAfterOutputTask !== `${kind}/${index}` || attempt !== 1) return;
    this.#log?.warn({ task: `${kind}/${index}`, attempt }, 'fault injection: crash after output');
    process.kill(process.pid, 'SIGKILL');
  }

  /** The LUT a task attempt applies: the real one, or for `wrongLutTask` a spoiled copy. */
  lutFor<L extends Uint8Array | Uint16Array>(
    kind: TaskKind,
    index: number,
    attempt: number,
    lut: L,
  ): L {
    if (this.#spec?.wrongLutTask !== `${kind}/${index}` || attempt !== 1) return lut;
    this.#log?.warn({ task: `${kind}/${index}`, attempt }, 'fault injection: wrong LUT');
    const max = lut.BYTES_PER_ELEMENT === 1 ? 255 : 65535;
    return lut.map((v) => (v === max ? v - 1 : v + 1)) as L;
  }

  /** True when this attempt's output must be overwritten after its checksum (`tornWriteTask`). */
  tearsOutput(kind: TaskKind, index: number, attempt: number): boolean {
    const tears = this.#spec?.tornWriteTask === `${kind}/${index}` && attempt === 1;
    if (tears)
      this.#log?.warn({ task: `${kind}/${index}`, attempt }, 'fault injection: torn write');
    return tears;
  }

  /** A master step of a job (see MasterStep). */
  async masterStep(step: MasterStep, job: string): Promise<void> {
    const ms = this.#spec?.delayMs?.[step] ?? 0;
    if (ms <= 0) return;
    this.#log?.warn({ job, step, ms }, 'fault injection: slow master step');
    await sleep(ms);
  }
}
