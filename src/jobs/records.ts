import { z } from 'zod';
import { HisteqError } from '../common/errors.js';
import { MAX_TILES_PER_SIDE } from '../imaging/clahe/grid.js';
import { METHODS } from '../imaging/clahe/method.js';
import { COLOUR_MODES } from '../imaging/types.js';
import { TASK_KINDS, type TaskKind } from './paths.js';
import { JOB_STATES, type JobRecord, type JobState } from './types.js';

/**
 * Job records as they enter from ZooKeeper, checked once where they are read: a record written
 * by another version, cut short, or by hand, becomes one clear error naming the job and the
 * field, not a crash somewhere later. Unknown fields pass (a newer pod may add some).
 */
const STATES = JOB_STATES as [JobState, ...JobState[]];
const PHASES = ['queued', 'mapping', 'reducing', 'equalizing', 'stitching'] as const;

const layout = z.looseObject({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  channels: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
  depth: z.union([z.literal(8), z.literal(16)]),
});

const attempt = z.looseObject({
  kind: z.enum(TASK_KINDS as [TaskKind, ...TaskKind[]]),
  index: z.number().int().min(0),
  pod: z.string(),
  attempt: z.number().int(),
  claimedAt: z.string(),
  outcome: z.enum(['done', 'failed', 'lost', 'running', 'released']),
});

export const jobRecordSchema = z.looseObject({
  id: z.string().min(1),
  state: z.enum(STATES),
  phase: z.enum(PHASES),
  name: z.string(),
  upload: z.string().min(1),
  info: z.looseObject({
    format: z.string(),
    layout,
    page: z.number().int().min(0),
    pages: z.number().int().min(1),
    rawOffset: z.number().int().min(0).optional(),
    codec: z
      .looseObject({
        layout,
        tiled: z.boolean(),
        chunkWidth: z.number().int().positive(),
        chunkHeight: z.number().int().positive(),
        compression: z.number().int(),
        predictor: z.number().int(),
        littleEndian: z.boolean(),
      })
      .optional(),
    fileBytes: z.number().int().min(0),
  }),
  options: z.looseObject({
    mode: z.enum(COLOUR_MODES),
    page: z.number().int().min(0),
    method: z.enum(METHODS).optional(),
    clahe: z
      .looseObject({
        clipLimit: z.number().positive(),
        tilesX: z.number().int().min(1).max(MAX_TILES_PER_SIDE),
        tilesY: z.number().int().min(1).max(MAX_TILES_PER_SIDE),
      })
      .optional(),
  }),
  tasks: z.number().int().positive(),
  done: z.number().int().min(0),
  createdAt: z.string(),
  updatedAt: z.string(),
  phaseStartedAt: z.record(z.string(), z.string()),
  phaseMs: z.record(z.string(), z.number()),
  result: z.string().optional(),
  error: z.string().optional(),
  attempts: z.array(attempt),
  masters: z.array(z.string()),
  reruns: z.number().int().min(0).optional(),
  checkMs: z.number().min(0).optional(),
  retryOf: z.string().optional(),
});

/** Parses a job record's JSON; throws BAD_RECORD with the job and the first bad field. */
export function parseJobRecord(data: Buffer | string, where: string): JobRecord {
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    throw new HisteqError('BAD_RECORD', `The job record at ${where} is not JSON.`);
  }
  const parsed = jobRecordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || 'the record';
    throw new HisteqError(
      'BAD_RECORD',
      `The job record at ${where} is malformed: ${field}: ${issue.message}.`,
    );
  }
  return parsed.data as unknown as JobRecord;
}
