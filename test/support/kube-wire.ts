import type http from 'node:http';
import type { FakeVerb } from './fake-kube-api.js';

/* The Kubernetes API server's wire habits the fake copies: merge patches, label selectors, Status bodies. */

type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Json = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v);
  }
  return result;
}

/**
 * Equality-based selectors (`a=b`, `a==b`, `a!=b`) and existence (`a`, `!a`), comma = AND;
 * null when unparsable (set-based `in`/`notin` are not implemented).
 */
export function parseSelector(
  text: string,
): Array<(labels: Record<string, string>) => boolean> | null {
  const parts = text.split(',').filter((p) => p.trim() !== '');
  const tests = parts.map((part) => {
    const exists = /^\s*(!?)([\w./-]+)\s*$/.exec(part);
    if (exists) {
      const [, not, k] = exists as unknown as [string, string, string];
      return (labels: Record<string, string>) => k in labels !== (not === '!');
    }
    const m = /^\s*([\w./-]+)\s*(!=|==|=)\s*([\w.-]*)\s*$/.exec(part);
    if (!m) return null;
    const [, k, op, v] = m as unknown as [string, string, string, string];
    return (labels: Record<string, string>) => (op === '!=' ? labels[k] !== v : labels[k] === v);
  });
  return tests.every((t) => t !== null) ? tests : null;
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function json(res: http.ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function status(
  res: http.ServerResponse,
  code: number,
  reason: string,
  message: string,
  name?: string,
): void {
  const details = name ? { name, kind: 'pods' } : undefined;
  json(res, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    details,
    code,
  });
}

/** A 403 worded like the API server's; `ns` undefined for a cluster-wide request. */
export function forbidden(
  res: http.ServerResponse,
  verb: FakeVerb,
  ns?: string,
  name?: string,
): void {
  const [apiVerb, resource] = verb === 'log' ? ['get', 'pods/log'] : [verb, 'pods'];
  const subject = name ? `pods "${name}"` : 'pods';
  const scope = ns === undefined ? 'at the cluster scope' : `in the namespace "${ns}"`;
  const message =
    `${subject} is forbidden: User "system:serviceaccount:${ns ?? 'default'}:histeq" cannot ` +
    `${apiVerb} resource "${resource}" in API group "" ${scope}`;
  status(res, 403, 'Forbidden', message, name);
}
