import { mkdir, rm } from 'node:fs/promises';
import { relative } from 'node:path';
import { displayName } from '../../common/display-name.js';
import { HisteqError } from '../../common/errors.js';
import { ensureRoom } from '../../common/storage.js';
import { checkClaheParams } from '../../imaging/clahe/grid.js';
import { probeImage } from '../../imaging/probe.js';
import { jobFiles } from '../job-files.js';
import { newJobId } from '../paths.js';
import { taskCountFor } from '../plan.js';
import { storageFor } from '../storage/job-storage.js';
import type { JobRecord, SubmitRequest } from '../types.js';
import type { OrchestratorOptions } from './orchestrator-options.js';

export type SubmissionOptions = Pick<
  OrchestratorOptions,
  | 'store'
  | 'shared'
  | 'params'
  | 'pod'
  | 'maxPixels'
  | 'maxDecodedBytes'
  | 'storageReserveBytes'
  | 'taskPods'
  | 'degraded'
>;

/**
 * Checks an upload (cluster health, the image's header, room for its outputs) and records it
 * as a new `queued` job. `started` runs once the record exists; should it throw, the record is
 * removed again. A refused upload leaves nothing behind.
 */
export async function recordSubmission(
  o: SubmissionOptions,
  request: SubmitRequest,
  started: (record: JobRecord) => void,
): Promise<JobRecord> {
  const degraded = o.degraded();
  if (degraded) throw new HisteqError('CLUSTER_DEGRADED', degraded);
  const { shared } = o;
  const info = await probeImage(request.path, {
    page: request.options.page,
    maxPixels: o.maxPixels,
    maxDecodedBytes: o.maxDecodedBytes,
  });
  if (request.options.clahe) {
    checkClaheParams(request.options.clahe, info.layout, request.options.mode);
  }
  const id = newJobId();
  const upload = relative(shared.root, request.path);
  const storage = storageFor(shared, id, upload, info);
  // The upload is stored; what the job writes besides it depends on its storage.
  await ensureRoom(
    shared.root,
    storage.extraBytes,
    o.storageReserveBytes ?? 0,
    'this image and its outputs',
  );
  const files = jobFiles(shared, id);
  await mkdir(shared.abs(files.dir), { recursive: true });
  let created = false;
  try {
    const now = new Date().toISOString();
    const tasks = o.params.current.tasks_per_job ?? Math.max(1, o.taskPods());
    const record: JobRecord = {
      id,
      state: 'queued',
      phase: 'queued',
      name: displayName(request.originalName),
      upload,
      info,
      options: request.options,
      tasks: taskCountFor(info, tasks),
      done: 0,
      createdAt: now,
      updatedAt: now,
      phaseStartedAt: { queued: now },
      phaseMs: {},
      attempts: [],
      masters: [o.pod],
      ...(request.retryOf ? { retryOf: request.retryOf } : {}),
    };
    // The upload is answered once the job is recorded. Making its source readable (a full
    // decode when staged) is the runner's first step, under MAX_ACTIVE_JOBS: a small file
    // that decodes to a large image cannot make many decodes run at once, nor hold the
    // upload request; corrupt image data then fails the job with the decoder's sentence.
    await o.store.create(record);
    created = true;
    started(record);
    return record;
  } catch (err) {
    // If the record cannot be removed (leadership lost meanwhile), whichever master runs it
    // fails it with the reason and cleans up.
    const removed =
      !created ||
      (await o.store.remove(id).then(
        () => true,
        () => false,
      ));
    if (removed) await rm(shared.abs(files.dir), { recursive: true, force: true });
    throw err;
  }
}
