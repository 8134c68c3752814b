import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskAttempt } from '../jobs/types.js';
import { check, podLog, seconds, waitForState } from './probes.js';
import { ASSEMBLER, drillSetup, faults, type DrillVariant, type Scenario } from './scenario.js';

const attemptsOf = (attempts: TaskAttempt[], kind: TaskAttempt['kind'], index: number) =>
  attempts
    .filter((a) => a.kind === kind && a.index === index)
    .sort((a, b) => a.attempt - b.attempt);

/** The first attempt of `kind` task `index` writes its output and dies before marking it done. */
function crashAfterOutputOf(
  id: string,
  title: string,
  kind: TaskAttempt['kind'],
  index: number,
  variant: DrillVariant = {},
): Scenario {
  return {
    id,
    title,
    ...drillSetup(variant, { crashAfterOutputTask: `${kind}/${index}` }),
    async run(drill) {
      const id = await drill.submit();
      const record = await drill.expectDone(id);
      const [first, second] = attemptsOf(record.attempts, kind, index);
      check(first && first.outcome === 'lost', `the crashed attempt is lost (${first?.outcome})`);
      check(second?.outcome === 'done', 'the rerun is done');
      const crash = (await podLog(drill.logDir, first.pod)).find(
        (l) => l.msg === 'fault injection: crash after output',
      );
      const crashedAt = crash ? Date.parse(crash.time) : Date.parse(first.claimedAt);
      const ms = Date.parse(second.claimedAt) - crashedAt;
      check(ms <= drill.sessionTimeoutMs + 2_000, `rerun claimed after ${seconds(ms)}`);
      return {
        outcome: `done, exact; rerun on ${second.pod} overwrote the output`,
        recoveryLabel: 'task rerun claimed',
        recoveryMs: ms,
      };
    },
  };
}

const crashAfterOutput = crashAfterOutputOf(
  'crash-after-output',
  'crash between writing a task output and marking it done',
  'equalize',
  1,
);
const crashAfterAssembly = crashAfterOutputOf(
  'assembler-crash-after-output',
  'crash between assembling the result and marking the assemble task done',
  'assemble',
  0,
  ASSEMBLER,
);

const poison: Scenario = {
  id: 'poison-task',
  title: 'a poison task (fails every time)',
  options: {
    env: { MAX_TASK_ATTEMPTS: '3', FAULT_INJECTION: faults({ poisonTask: 'histogram/1' }) },
  },
  async run(drill) {
    const id = await drill.submit();
    const record = await waitForState(drill.admin, id, ['done', 'failed'], 30_000);
    check(record.state === 'failed', `the poisoned job ended ${record.state}`);
    check(
      /histogram task 1 failed: .*poisoned.*after 3 attempts/.test(record.error ?? ''),
      `a clear reason: ${record.error}`,
    );
    const tries = attemptsOf(record.attempts, 'histogram', 1);
    check(tries.length === 3, `3 attempts recorded (${tries.length})`);
    const pods = new Set(tries.map((a) => a.pod));
    check(pods.size >= 2, `retried on other pods (${[...pods].join(', ')})`);
    await drill.expectClean(id);
    const failedAfterMs = Date.parse(record.updatedAt) - Date.parse(record.createdAt);
    // The cluster keeps serving: a job without the poisoned strip goes through.
    await drill.setTasksPerJob(1);
    await drill.expectDone(await drill.submit());
    return {
      outcome: `failed with reason after 3 attempts on ${pods.size} pods; next job done`,
      recoveryLabel: 'job failed after',
      recoveryMs: failedAfterMs,
    };
  },
};

const SLOW_MS = 8_000;
const slow: Scenario = {
  id: 'slow-task',
  title: 'a slow task (claimed longer than TASK_TIMEOUT_MS)',
  options: {
    env: {
      TASK_TIMEOUT_MS: '2500',
      FAULT_INJECTION: faults({ slowTask: { task: 'histogram/1', ms: SLOW_MS } }),
    },
  },
  async run(drill) {
    const id = await drill.submit();
    const record = await drill.expectDone(id);
    const [first, second] = attemptsOf(record.attempts, 'histogram', 1);
    check(first && second, 'the slow task was reassigned');
    check(second.outcome === 'done' && first.outcome !== 'done', 'the reassigned attempt won');
    check(second.pod !== first.pod, 'it was reassigned to another pod');
    const ms = Date.parse(second.claimedAt) - Date.parse(first.claimedAt);
    check(ms <= 2_500 + 2_000, `reassigned after ${seconds(ms)}`);
    // The slow attempt finishes late: its commit is refused and it leaves no file behind.
    await sleep(Math.max(0, Date.parse(first.claimedAt) + SLOW_MS + 1_500 - Date.now()));
    // Its claim was broken: it ends refused (its commit, its read of a finished job's files, or
    // the stop when the finished job's tasks are removed).
    const late = (await podLog(drill.logDir, first.pod)).filter(
      (l) => l.job === id && l.task === 'histogram/1' && l.attempt === first.attempt,
    );
    check(!late.some((l) => l.msg === 'task done'), 'the slow attempt did not commit');
    // Refused at its commit, or stopped between chunks when the finished job's tasks went.
    check(
      late.some((l) => /^task (failed|stopped)/.test(l.msg)),
      'the slow attempt ended refused',
    );
    await drill.expectClean(id);
    return {
      outcome: `done, exact; first commit won (${second.pod}), late attempt refused`,
      recoveryLabel: 'task reassigned',
      recoveryMs: ms,
    };
  },
};

/**
 * A task whose output is wrong (`fault`: a wrong LUT that its own checksum confirms, or a write
 * torn after the checksum): the master's check of the result must catch it, re-run that task
 * alone, and ship only the exact image.
 */
function wrongOutput(id: string, title: string, fault: object, caughtBy: RegExp): Scenario {
  return {
    id,
    title,
    options: { env: { FAULT_INJECTION: faults(fault) } },
    async run(drill) {
      const id = await drill.submit();
      const record = await drill.expectDone(id);
      check(record.reruns === 1, `one re-run recorded (${record.reruns})`);
      const tries = attemptsOf(record.attempts, 'equalize', 1);
      check(tries.length === 2, `task 1 ran twice (${tries.length})`);
      check(
        attemptsOf(record.attempts, 'equalize', 0).length === 1,
        'only the bad strip was re-run',
      );
      const master = record.masters[record.masters.length - 1]!;
      const caught = (await podLog(drill.logDir, master)).find(
        (l) => l.msg === 'task output failed the check; re-running',
      );
      check(caught !== undefined, 'the master logged the failed check');
      check(
        caughtBy.test(JSON.stringify(caught)),
        `caught by ${caughtBy}: ${JSON.stringify(caught)}`,
      );
      // A chunked page: the strips' rows passed, and its assemble task found the bytes were
      // not the task's (then a new assemble task ran after the re-run, numbered on).
      const assembled = attemptsOf(record.attempts, 'assemble', 0);
      check(
        assembled.every((a, i) => a.outcome === 'done' && a.attempt === i + 1),
        `each assemble attempt is recorded once, done (${JSON.stringify(assembled)})`,
      );
      const by = assembled.length > 1 ? 'its assemble task' : 'the check';
      const ms = Date.parse(tries[1]!.claimedAt) - Date.parse(caught!.time);
      return {
        outcome: `done, exact; the wrong strip was caught by ${by} and re-run on ${tries[1]!.pod}`,
        recoveryLabel: 'bad strip re-claimed',
        recoveryMs: Math.max(0, ms),
      };
    },
  };
}

const wrongLut = wrongOutput(
  'wrong-lut',
  'a task applies a wrong LUT (its checksum matches what it wrote)',
  { wrongLutTask: 'equalize/1' },
  /differs from the source through the LUT/,
);
const tornWrite = wrongOutput(
  'torn-write',
  'a task output is overwritten after its checksum was recorded',
  { tornWriteTask: 'equalize/1' },
  /differs from the source|checksum/,
);

export const TASK_SCENARIOS: Scenario[] = [
  crashAfterOutput,
  crashAfterAssembly,
  poison,
  slow,
  wrongLut,
  tornWrite,
];
