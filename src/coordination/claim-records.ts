import { z } from 'zod';
import { HisteqError } from '../common/errors.js';

/**
 * The shapes of a task's znodes (its spec and its lock, done and failed children) as they enter
 * from ZooKeeper. A node written by another version, cut short or by hand becomes one BAD_RECORD
 * error naming the node and the field. Unknown fields pass: a newer pod may add some.
 */
const claimRecordSchema = z.looseObject({
  pod: z.string(),
  attempt: z.number().int().min(0),
  claimedAt: z.string(),
  released: z.boolean().optional(),
});
const count = z.number().int().min(0).optional();
const SCHEMAS = {
  spec: z.looseObject({
    attempt: count,
    history: z.array(claimRecordSchema).optional(),
    released: count,
    reruns: count,
  }),
  lock: claimRecordSchema,
  done: z.looseObject({
    pointer: z.string().min(1),
    checksum: z.string(),
    pod: z.string(),
    attempt: z.number().int().min(0),
    completedAt: z.string(),
    offset: z.number().int().min(0).optional(),
    thread: z.number().int().min(0).optional(),
  }),
  failed: z.looseObject({
    reason: z.string(),
    pod: z.string(),
    attempt: z.number().int().min(0),
    failedAt: z.string(),
  }),
};

/**
 * Task znodes as they enter: a JSON object of the expected shape, or a BAD_RECORD error naming
 * the node and the field (an empty task node reads as an empty spec).
 */
export function parseTaskNode<T>(data: Buffer, path: string, kind: keyof typeof SCHEMAS): T {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8') || '{}');
  } catch (err) {
    throw new HisteqError('BAD_RECORD', `${path} does not hold JSON.`, { cause: err });
  }
  const parsed = SCHEMAS[kind].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || 'the node';
    throw new HisteqError('BAD_RECORD', `${path} is malformed: ${field}: ${issue.message}.`);
  }
  return parsed.data as T;
}
