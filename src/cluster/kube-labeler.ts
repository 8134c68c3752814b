import {
  ApiException,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { HisteqError, errorMessage, type ErrorCode } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { SerialRoleLabeler, withBoundedRetry, type RetryOptions } from './role-labeler.js';

export interface KubeLabelerOptions {
  kubeConfig: KubeConfig;
  /** Namespace of this pod (Downward API `POD_NAMESPACE`). */
  namespace: string;
  /** This pod's name (Downward API `POD_NAME`). */
  podName: string;
  /** Value of the `app` label shared by every pod of the Deployment. */
  appLabel: string;
  logger: Logger;
  retry?: RetryOptions;
}

/**
 * A failed Kubernetes API call, with the HTTP status kept (undefined for network errors).
 * 401/403 map to BAD_CONFIG (a manifest or RBAC problem no retry can fix), 404 to NOT_FOUND,
 * anything else to CLUSTER_DEGRADED.
 */
export class KubeApiError extends HisteqError {
  readonly status: number | undefined;
  /** For a 403: the permission that is missing, e.g. `patch pods in namespace "demo"`. */
  readonly missingPermission: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    status: number | undefined,
    missingPermission?: string,
    cause?: unknown,
  ) {
    super(code, message, { cause });
    this.name = 'KubeApiError';
    this.status = status;
    this.missingPermission = missingPermission;
  }
}

// client-node 1.x sends patches as JSON-Patch unless told otherwise; a label patch is a merge.
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const ROLE_KEY = 'role';
const MASTER = 'master';

type Verb = 'patch' | 'list';

/**
 * Publishes the master role as the `role=master` label on this pod, which is what
 * `master-service` selects. After labelling itself the new master removes the label from any
 * other pod still carrying it (a master that died or was partitioned cannot clean up itself).
 */
export class KubeRoleLabeler extends SerialRoleLabeler {
  private readonly api: CoreV1Api;

  constructor(private readonly options: KubeLabelerOptions) {
    super(options.logger.child({ component: 'kube-labeler' }));
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  protected async publish(current: () => boolean): Promise<void> {
    const { podName, namespace, appLabel } = this.options;
    await this.call('patch', `label pod ${podName} ${ROLE_KEY}=${MASTER}`, current, () =>
      this.patchRole(podName, MASTER),
    );
    this.published = true;
    if (!current()) return; // a stepDown is queued behind us; no point sweeping
    const selector = `app=${appLabel},${ROLE_KEY}=${MASTER}`;
    const list = await this.call('list', `list pods ${selector}`, current, () =>
      this.api.listNamespacedPod({ namespace, labelSelector: selector }),
    );
    for (const pod of list.items) {
      const name = pod.metadata?.name;
      if (!name || name === podName) continue;
      try {
        await this.call('patch', `remove ${ROLE_KEY}=${MASTER} from pod ${name}`, current, () =>
          this.patchRole(name, null),
        );
        this.logger.info({ stalePod: name }, 'removed role=master from a stale master pod');
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) continue; // already gone
        throw err;
      }
    }
    this.logger.info({ selector }, 'this pod is labelled role=master');
  }

  protected unpublish(): Promise<void> {
    return this.unlabelSelf();
  }

  private async unlabelSelf(): Promise<void> {
    const { podName } = this.options;
    try {
      await this.call('patch', `remove ${ROLE_KEY}=${MASTER} from pod ${podName}`, null, () =>
        this.patchRole(podName, null),
      );
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    }
    if (this.published) this.logger.info('this pod no longer carries role=master');
    this.published = false;
  }

  private patchRole(name: string, role: string | null): Promise<unknown> {
    // In a JSON merge patch (RFC 7386) null deletes the key; absent keys stay untouched.
    const body = { metadata: { labels: { [ROLE_KEY]: role } } };
    return this.api.patchNamespacedPod(
      { name, namespace: this.options.namespace, body },
      MERGE_PATCH,
    );
  }

  /** One API call with bounded retries; failures become a logged, typed KubeApiError. */
  private async call<T>(
    verb: Verb,
    what: string,
    current: (() => boolean) | null,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      return await withBoundedRetry(fn, {
        logger: this.logger,
        what,
        retry: this.options.retry,
        isPermanent: (err) => isPermanentStatus(httpStatus(err)),
        shouldContinue: current ?? undefined,
      });
    } catch (err) {
      throw this.translate(verb, what, err);
    }
  }

  private translate(verb: Verb, what: string, err: unknown): KubeApiError {
    const { namespace } = this.options;
    const status = httpStatus(err);
    const serverMessage = statusMessage(err) ?? errorMessage(err);
    if (status === 403) {
      const permission = `${verb} pods in namespace "${namespace}"`;
      this.logger.error(
        { status, missingPermission: permission, serverMessage },
        `Kubernetes RBAC denied: this pod's ServiceAccount may not ${permission}; ` +
          'bind it to a Role with pods get/list/watch/patch and pods/log get (k8s/rbac.yaml)',
      );
      return new KubeApiError(
        'BAD_CONFIG',
        `cannot ${what}: RBAC forbids ${permission} (${serverMessage})`,
        status,
        permission,
        err,
      );
    }
    const code: ErrorCode =
      status === 401 ? 'BAD_CONFIG' : status === 404 ? 'NOT_FOUND' : 'CLUSTER_DEGRADED';
    if (status === 401) {
      this.logger.error(
        { status, serverMessage },
        `Kubernetes API rejected this pod's credentials: ${what} failed; check that the ` +
          'ServiceAccount token is mounted (automountServiceAccountToken) and not revoked',
      );
    } else if (status !== 404) {
      // A 404 for another pod is routine (it was deleted); the caller decides whether to care.
      this.logger.error({ status, serverMessage }, `Kubernetes API: ${what} failed`);
    }
    return new KubeApiError(
      code,
      `cannot ${what}: ${status ? `HTTP ${status}: ` : ''}${serverMessage}`,
      status,
      undefined,
      err,
    );
  }
}

/** HTTP status of a client-node error; undefined for network-level failures. */
function httpStatus(err: unknown): number | undefined {
  return err instanceof ApiException && typeof err.code === 'number' ? err.code : undefined;
}

/** The `message` of the Kubernetes Status object in an error body, when there is one. */
function statusMessage(err: unknown): string | undefined {
  if (!(err instanceof ApiException)) return undefined;
  let body: unknown = err.body;
  if (typeof body === 'string') {
    const text = body;
    try {
      body = JSON.parse(text);
    } catch {
      return text || undefined;
    }
  }
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const message = (body as { message: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return undefined;
}

/** Statuses no retry can fix: auth, RBAC, missing object, malformed request. */
function isPermanentStatus(status: number | undefined): boolean {
  if (status === undefined) return false; // network error: worth retrying
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}
