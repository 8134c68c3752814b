import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { HisteqError, errorMessage } from '../common/errors.js';

export interface LoadKubeConfigOptions {
  /**
   * True when running in a pod (config.ts derives it from KUBERNETES_SERVICE_HOST). Then the
   * ServiceAccount token and CA are used, never a kubeconfig file.
   */
  inCluster: boolean;
  /** Kubeconfig file outside the cluster (default `~/.kube/config`). */
  kubeconfigPath?: string;
  /**
   * Prefix for the ServiceAccount mount (`/var/run/secrets/kubernetes.io/serviceaccount`);
   * only tests change it.
   */
  serviceAccountPathPrefix?: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Loads credentials for the Kubernetes API explicitly. `loadFromDefault()` is avoided on
 * purpose: when nothing is found it silently targets http://localhost:8080, which turns a
 * missing mount into confusing "connection refused" errors far from the cause.
 */
export function loadKubeConfig(options: LoadKubeConfigOptions): KubeConfig {
  const kc = new KubeConfig();
  if (options.inCluster) {
    const prefix = options.serviceAccountPathPrefix ?? '';
    const tokenPath = `${prefix}${SERVICE_ACCOUNT_DIR}/token`;
    if (!existsSync(tokenPath)) {
      throw new HisteqError(
        'BAD_CONFIG',
        `running in a Kubernetes pod but the ServiceAccount token ${tokenPath} is missing; ` +
          'set automountServiceAccountToken: true on the pod or its ServiceAccount',
      );
    }
    kc.loadFromCluster(prefix);
    const server = kc.getCurrentCluster()?.server ?? '';
    // The client builds the URL from KUBERNETES_SERVICE_HOST/PORT itself; a half-set
    // environment yields "https://host:undefined", which would only fail at the first call.
    if (server.includes('undefined')) {
      throw new HisteqError(
        'BAD_CONFIG',
        `in-cluster API server address is incomplete (${server}): ` +
          'KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set',
      );
    }
    return kc;
  }

  const file = options.kubeconfigPath ?? path.join(homedir(), '.kube', 'config');
  if (!existsSync(file)) {
    throw new HisteqError(
      'BAD_CONFIG',
      `not running in a Kubernetes pod and no kubeconfig at ${file}; ` +
        'pass a kubeconfig path or run in local mode',
    );
  }
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new HisteqError('BAD_CONFIG', `cannot read kubeconfig ${file}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new HisteqError(
      'BAD_CONFIG',
      `kubeconfig ${file} has no current context with a cluster server ` +
        `(current-context: ${kc.getCurrentContext() || 'unset'})`,
    );
  }
  return kc;
}
