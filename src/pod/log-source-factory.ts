import { FileLogSource } from '../cluster/file-log-source.js';
import type { LogSource } from '../cluster/log-source.js';
import type { Logger } from '../common/log.js';
import type { Config } from '../config.js';

/**
 * Where the master reads the pods' logs for the UI: the local launcher's log files when
 * LOG_DIR is set, the Kubernetes API in a cluster, else nowhere (a pod started by hand).
 * The Kubernetes client is imported only when used: loading it costs seconds of start-up.
 */
export async function createLogSource(config: Config, logger: Logger): Promise<LogSource | null> {
  if (config.logDir) return new FileLogSource({ logDir: config.logDir, logger });
  if (config.labeler === 'kubernetes') {
    const [{ loadKubeConfig }, { KubeLogSource }] = await Promise.all([
      import('../cluster/kube-config.js'),
      import('../cluster/kube-log-source.js'),
    ]);
    return new KubeLogSource({
      kubeConfig: loadKubeConfig({ inCluster: true }),
      namespace: config.namespace,
      logger,
    });
  }
  return null;
}
