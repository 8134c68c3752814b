import { LocalRoleLabeler } from '../cluster/local-labeler.js';
import type { RoleLabeler } from '../cluster/role-labeler.js';
import type { Logger } from '../common/log.js';
import type { Config } from '../config.js';

/**
 * Kubernetes labels in a cluster, the local registry file elsewhere (chosen in config). The
 * Kubernetes client is imported only when used: loading it costs seconds of start-up.
 */
export async function createRoleLabeler(
  config: Config,
  url: string,
  logger: Logger,
): Promise<RoleLabeler> {
  if (config.labeler === 'kubernetes') {
    const [{ loadKubeConfig }, { KubeRoleLabeler }] = await Promise.all([
      import('../cluster/kube-config.js'),
      import('../cluster/kube-labeler.js'),
    ]);
    return new KubeRoleLabeler({
      kubeConfig: loadKubeConfig({ inCluster: true }),
      namespace: config.namespace,
      podName: config.pod,
      appLabel: config.appLabel,
      logger,
    });
  }
  return new LocalRoleLabeler({ registryPath: config.localRegistry, pod: config.pod, url, logger });
}
