import { Worker } from 'node:worker_threads';
import type { UploadAnswer, UploadRequest } from './upload-worker.js';

const WORKER = new URL('./upload-worker.js', import.meta.url);

let worker: Worker | null = null;
let next = 0;
const waiting = new Map<number, (answer: UploadAnswer) => void>();

/**
 * POST /upload of the file at `path` from the upload thread (upload-worker.ts), where files are
 * read once and kept; without `url`, only that read (so that no timed upload includes it).
 */
export function upload(
  url: string | undefined,
  path: string,
  fields?: Record<string, string>,
): Promise<{ status: number; body: string }> {
  if (!worker) {
    worker = new Worker(WORKER);
    worker.unref(); // the bench ends when its work does
    worker.on('message', (answer: UploadAnswer) => {
      waiting.get(answer.id)?.(answer);
      waiting.delete(answer.id);
    });
  }
  const id = next++;
  return new Promise((resolve, reject) => {
    waiting.set(id, (answer) =>
      'error' in answer ? reject(new Error(answer.error)) : resolve(answer),
    );
    worker!.postMessage({ id, url, path, ...(fields ? { fields } : {}) } satisfies UploadRequest);
  });
}

/** Ends the upload thread (the bench calls it when done). */
export async function closeUploader(): Promise<void> {
  const running = worker;
  worker = null;
  await running?.terminate();
}
