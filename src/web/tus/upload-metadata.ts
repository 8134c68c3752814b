import { displayName } from '../../common/display-name.js';
import type { JobOptions } from '../../jobs/types.js';
import { parseJobOptions } from '../upload.js';

/** The tus metadata keys read into a job: the upload form's fields, plus the file's name. */
const OPTION_KEYS = ['mode', 'page', 'method', 'clip_limit', 'tiles'] as const;

/** The job options a resumable upload carries in its metadata (same rules as the form's). */
export function optionsFromMetadata(
  metadata: Record<string, string | null> | undefined,
): JobOptions {
  const fields: Record<string, string> = {};
  for (const key of OPTION_KEYS) {
    const value = metadata?.[key];
    if (typeof value === 'string') fields[key] = value;
  }
  return parseJobOptions(fields);
}

/** `name` (tus-js-client's examples call it `filename`): for display only, like a form's. */
export function nameFromMetadata(metadata: Record<string, string | null> | undefined): string {
  return displayName(metadata?.name ?? metadata?.filename ?? '');
}
