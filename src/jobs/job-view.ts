import type { JobRecord, JobStatusEvent, JobView } from './types.js';

/** The job_status event for a record (docs/architecture.md, Interfaces); `total` is the tasks of the current phase. */
export function statusOf(record: JobRecord, msg: string): JobStatusEvent {
  return {
    id: record.id,
    name: record.name,
    state: record.state,
    phase: record.phase,
    done: record.state === 'done' ? record.tasks : record.done,
    total: record.tasks,
    msg,
    ...(record.result ? { url: record.result } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}

export function viewOf(record: JobRecord): JobView {
  return {
    ...statusOf(record, messageOf(record)),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    info: record.info,
    options: record.options,
    phaseMs: record.phaseMs,
    attempts: record.attempts,
    masters: record.masters,
    ...(record.reruns ? { reruns: record.reruns } : {}),
    ...(record.checkMs !== undefined ? { checkMs: record.checkMs } : {}),
    ...(record.retryOf ? { retryOf: record.retryOf } : {}),
  };
}

export function messageOf(record: JobRecord): string {
  switch (record.state) {
    case 'done':
      return 'done';
    case 'failed':
      return record.error ?? 'failed';
    case 'cancelled':
      return 'cancelled';
    case 'queued':
      return 'waiting to start';
    case 'reducing':
      return 'building the LUT';
    case 'stitching':
      return 'stitching the result';
    default:
      return `${record.done}/${record.tasks} ${record.state === 'mapping' ? 'histogram' : 'equalize'} tasks done`;
  }
}
