import { formatBytes } from '../multipart.js';
import { describeError } from '../http-errors.js';

/** What a tus hook throws to refuse a request: @tus/server answers with this status and body. */
export interface TusRefusal {
  status_code: number;
  body: string;
}

/** The JSON body every refusal has, like the rest of the API: `{"error": "<sentence>"}`. */
export function refusal(status: number, sentence: string): TusRefusal {
  return { status_code: status, body: JSON.stringify({ error: sentence }) };
}

/** Our own errors (HttpError, HisteqError) as a refusal with their status and sentence. */
export function refusalFor(err: unknown): TusRefusal {
  const { status, message } = describeError(err);
  return refusal(status, message);
}

export function isRefusal(err: unknown): err is TusRefusal {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as TusRefusal).status_code === 'number' &&
    typeof (err as TusRefusal).body === 'string'
  );
}

/**
 * The sentences for the library's own refusals (its bodies are short protocol phrases): what
 * happened and what to do, naming the setting where one is the cause.
 */
export function librarySentence(status: number, body: string, maxBytes: number): string {
  if (status === 413 && /maximum/i.test(body)) {
    return `The file is larger than the limit of ${formatBytes(maxBytes)} (MAX_UPLOAD_BYTES).`;
  }
  if (status === 413) {
    return 'The request sends more bytes than the upload announced in Upload-Length.';
  }
  if (status === 404 || status === 410) {
    return 'There is no resumable upload at this address (it finished, was refused or expired): start the upload again.';
  }
  if (status === 409) {
    return 'The upload offset does not match what the server has stored: ask for the offset again (HEAD) and resume from there.';
  }
  return `The resumable upload was refused: ${body.trim().replace(/\.$/, '')}.`;
}
