import type { JobRecord } from '../../src/jobs/types.js';

/** A complete job record (the store checks every record it reads). */
export function jobRecord(id: string, fields: Partial<JobRecord> = {}): JobRecord {
  const now = new Date().toISOString();
  return {
    id,
    state: 'mapping',
    phase: 'mapping',
    name: `${id}.tif`,
    upload: `uploads/${id}.upload`,
    info: {
      format: 'tiff',
      layout: { width: 4, height: 4, channels: 1, depth: 8 },
      page: 0,
      pages: 1,
      fileBytes: 100,
    },
    options: { mode: 'luma', page: 0 },
    tasks: 2,
    done: 0,
    createdAt: now,
    updatedAt: now,
    phaseStartedAt: {},
    phaseMs: {},
    attempts: [],
    masters: [],
    ...fields,
  };
}
