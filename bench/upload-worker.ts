/**
 * The bench's upload client on a thread of its own, as a browser or curl is a process of its
 * own: on the bench's main thread it would share one event loop with the local front door it
 * uploads through, and each would wait for the other. Files are read once and kept.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { postMultipart } from './upload.js';

export interface UploadRequest {
  id: number;
  /** Without a URL the file is only read (and kept), for the uploads to come. */
  url?: string;
  path: string;
  /** Form fields sent before the file (method, clip_limit, …). */
  fields?: Record<string, string>;
}

export type UploadAnswer =
  { id: number; status: number; body: string } | { id: number; error: string };

const files = new Map<string, Promise<Buffer>>();

parentPort?.on('message', (req: UploadRequest) => {
  void (async () => {
    try {
      let bytes = files.get(req.path);
      if (!bytes) files.set(req.path, (bytes = readFile(req.path)));
      const data = await bytes;
      const res = req.url
        ? await postMultipart(`${req.url}/upload`, 'image', basename(req.path), data, req.fields)
        : { status: 0, body: '' };
      parentPort?.postMessage({ id: req.id, ...res } satisfies UploadAnswer);
    } catch (err) {
      parentPort?.postMessage({ id: req.id, error: String(err) } satisfies UploadAnswer);
    }
  })();
});
