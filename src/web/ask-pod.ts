import type { PodView } from './deps.js';

/**
 * What another pod answered on one of its own routes: its status and JSON body, `impostor` when
 * the body does not name that pod (another process now listens at its address), or
 * `silent` when nothing answered in time.
 */
export type PodAnswer = { ok: boolean; body: Record<string, unknown> } | 'impostor' | 'silent';

export interface AskPodOptions {
  timeoutMs: number;
  /** API_TOKEN, for routes behind it. */
  token?: string;
}

/** GETs `path` from `pod` and checks that the answer is the pod's own (it names the pod). */
export async function askPod(
  pod: PodView,
  path: string,
  { timeoutMs, token }: AskPodOptions,
): Promise<PodAnswer> {
  try {
    const res = await fetch(new URL(path, pod.url), {
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        Accept: 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
    });
    const body: unknown = await res.json().catch(() => ({}));
    const record =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    return record.pod === pod.pod ? { ok: res.ok, body: record } : 'impostor';
  } catch {
    return 'silent';
  }
}
