import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import {
  forbidden,
  isObject,
  json,
  mergePatch,
  parseSelector,
  readBody,
  status,
} from './kube-wire.js';

/**
 * A small Kubernetes API server for tests, on 127.0.0.1:0, speaking the real REST paths so the
 * real @kubernetes/client-node can be driven against it: pod get/patch, pod list with label
 * selectors in one namespace or across all of them (`/api/v1/pods`), and pods/log with
 * `follow=true` chunked streaming. Like the real server it accepts only the patch content types
 * it understands (here: merge patch) with 415 for the rest, answers RBAC denials with a 403
 * Status object, and honours `sinceTime` at one-second resolution.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  authorization: string | undefined;
  /** Parsed JSON when the body is JSON, otherwise the raw text; undefined when empty. */
  body: unknown;
}

export type FakeVerb = 'get' | 'list' | 'patch' | 'log';

type Json = Record<string, unknown>;
interface LogEntry {
  timestamp: string;
  ms: number;
  text: string;
}
interface Follower {
  res: http.ServerResponse;
  timestamps: boolean;
}

const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+)(\/log)?)?$/;
const ALL_PODS_PATH = '/api/v1/pods';

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  readonly token = 'fake-token';
  private readonly pods = new Map<string, Json>();
  private readonly logs = new Map<string, LogEntry[]>();
  private readonly followers = new Map<string, Set<Follower>>();
  private forbidden = new Set<FakeVerb>();
  private resourceVersion = 1;
  private nanoCounter = 0;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeKubeApi> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const api = new FakeKubeApi(server, `http://127.0.0.1:${port}`);
    // A client hanging up mid-request must not become an unhandled rejection in the test run.
    server.on('request', (req, res) => void api.handle(req, res).catch(() => res.destroy()));
    return api;
  }

  addPod(namespace: string, name: string, labels: Record<string, string> = {}): void {
    this.pods.set(`${namespace}/${name}`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace,
        uid: `uid-${name}`,
        resourceVersion: String(++this.resourceVersion),
        creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        labels: { ...labels },
      },
      spec: { containers: [{ name: 'app', image: 'histeq-array:test' }] },
      status: { phase: 'Running' },
    });
  }

  labelsOf(namespace: string, name: string): Record<string, string> | undefined {
    const pod = this.pods.get(`${namespace}/${name}`);
    return pod ? { ...((pod.metadata as Json).labels as Record<string, string>) } : undefined;
  }

  /** Answers these verbs with 403 Forbidden from now on; `[]` allows everything again. */
  setForbidden(verbs: FakeVerb[]): void {
    this.forbidden = new Set(verbs);
  }

  /** Appends a log line (default timestamp: now, with distinct nanoseconds) and streams it. */
  pushLog(namespace: string, pod: string, text: string, timestamp?: string): void {
    const ts = timestamp ?? this.nowNano();
    const entry = { timestamp: ts, ms: Date.parse(ts), text };
    const key = `${namespace}/${pod}`;
    this.logs.set(key, [...(this.logs.get(key) ?? []), entry]);
    for (const f of this.followers.get(key) ?? []) f.res.write(formatLine(entry, f.timestamps));
  }

  followerCount(namespace: string, pod: string): number {
    return this.followers.get(`${namespace}/${pod}`)?.size ?? 0;
  }

  /** Ends open follow streams cleanly (final chunk sent), as API server timeouts do. */
  endLogStreams(namespace: string, pod: string): number {
    return this.dropFollowers(namespace, pod, (res) => res.end());
  }

  /** Cuts open follow streams mid-response (no final chunk), as a dying proxy does. */
  breakLogStreams(namespace: string, pod: string): number {
    return this.dropFollowers(namespace, pod, (res) => res.socket?.destroy());
  }

  requestsTo(method: string, pathPrefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix));
  }

  async close(): Promise<void> {
    for (const set of this.followers.values()) for (const f of set) f.res.destroy();
    this.followers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const raw = await readBody(req);
    const contentType = req.headers['content-type'];
    let body: unknown = raw || undefined;
    try {
      if (raw) body = JSON.parse(raw);
    } catch {
      // not JSON: recorded as text
    }
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType,
      authorization: req.headers.authorization,
      body,
    });

    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    }
    if (url.pathname === ALL_PODS_PATH) {
      if (req.method !== 'GET') {
        return status(res, 405, 'MethodNotAllowed', 'the server does not allow this method');
      }
      if (this.forbidden.has('list')) return forbidden(res, 'list');
      return this.list(res, url.searchParams, undefined);
    }
    const match = POD_PATH.exec(url.pathname);
    if (!match)
      return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const [, namespace, name, isLog] = match as unknown as [string, string, string?, string?];
    const verb: FakeVerb | undefined =
      req.method === 'GET' ? (isLog ? 'log' : name ? 'get' : 'list') : undefined;
    const chosen = req.method === 'PATCH' && name && !isLog ? 'patch' : verb;
    if (!chosen)
      return status(res, 405, 'MethodNotAllowed', 'the server does not allow this method');
    if (this.forbidden.has(chosen)) return forbidden(res, chosen, namespace, name);

    if (chosen === 'list') return this.list(res, url.searchParams, namespace);
    const key = `${namespace}/${name}`;
    const pod = this.pods.get(key);
    if (!pod) return status(res, 404, 'NotFound', `pods "${name}" not found`, name);
    if (chosen === 'get') return json(res, 200, pod);
    if (chosen === 'patch') {
      if (contentType?.split(';')[0]?.trim() !== 'application/merge-patch+json') {
        return status(
          res,
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: ` +
            `application/merge-patch+json (this fake implements only merge patch; got ${contentType})`,
        );
      }
      if (!isObject(body)) return status(res, 400, 'BadRequest', 'merge patch must be an object');
      const patched = mergePatch(pod, body) as Json;
      (patched.metadata as Json).resourceVersion = String(++this.resourceVersion);
      this.pods.set(key, patched);
      return json(res, 200, patched);
    }
    this.streamLog(key, url.searchParams, res);
  }

  /** A PodList of the pods matching `labelSelector`, in `namespace` or (undefined) in all. */
  private list(res: http.ServerResponse, params: URLSearchParams, namespace?: string): void {
    const selector = parseSelector(params.get('labelSelector') ?? '');
    if (!selector) return status(res, 400, 'BadRequest', 'unable to parse requirement');
    const items = [...this.pods.values()].filter((pod) => {
      const meta = pod.metadata as Json;
      const labels = (meta.labels ?? {}) as Record<string, string>;
      const inScope = namespace === undefined || meta.namespace === namespace;
      return inScope && selector.every((s) => s(labels));
    });
    const metadata = { resourceVersion: String(this.resourceVersion) };
    json(res, 200, { apiVersion: 'v1', kind: 'PodList', metadata, items });
  }

  private streamLog(key: string, params: URLSearchParams, res: http.ServerResponse): void {
    const timestamps = params.get('timestamps') === 'true';
    let entries = this.logs.get(key) ?? [];
    const since = params.get('sinceTime');
    if (since) {
      // The real API server keeps sinceTime at one-second resolution: overlap is expected.
      const sinceMs = Math.floor(Date.parse(since) / 1000) * 1000;
      entries = entries.filter((e) => e.ms >= sinceMs);
    }
    const tail = Number(params.get('tailLines') ?? NaN);
    if (Number.isInteger(tail) && tail >= 0) entries = entries.slice(entries.length - tail);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.flushHeaders();
    for (const e of entries) res.write(formatLine(e, timestamps));
    if (params.get('follow') !== 'true') return void res.end();
    const follower = { res, timestamps };
    const set = this.followers.get(key) ?? new Set<Follower>();
    set.add(follower);
    this.followers.set(key, set);
    res.on('close', () => set.delete(follower));
  }

  private dropFollowers(ns: string, pod: string, how: (res: http.ServerResponse) => void): number {
    const set = this.followers.get(`${ns}/${pod}`) ?? new Set<Follower>();
    const count = set.size;
    for (const f of [...set]) how(f.res);
    set.clear();
    return count;
  }

  /** RFC3339Nano like the kubelet's, trailing zeros trimmed as Go does. */
  private nowNano(): string {
    const iso = new Date().toISOString(); // …T12:00:00.123Z
    const nanos = String(++this.nanoCounter % 1_000_000).padStart(6, '0');
    const fraction = `${iso.slice(20, 23)}${nanos}`.replace(/0+$/, '');
    return `${iso.slice(0, 19)}${fraction ? '.' + fraction : ''}Z`;
  }
}

/**
 * A KubeConfig aimed at the fake (or any `{url, token}`, e.g. a closed port): plain HTTP, which
 * client-node allows only with skipTLSVerify, and a bearer-token user.
 */
export function kubeConfigFor(
  api: { url: string; token: string },
  namespace = 'default',
): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: api.url, skipTLSVerify: true }],
    users: [{ name: 'fake-user', token: api.token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user', namespace }],
    currentContext: 'fake',
  });
  return kc;
}

function formatLine(e: LogEntry, timestamps: boolean): string {
  return timestamps ? `${e.timestamp} ${e.text}\n` : `${e.text}\n`;
}
