/**
 * The local launcher's settings. Like src/config.ts this reads the environment once and checks
 * it with clear sentences; it is separate because these settings belong to the launcher, not to
 * a pod (a pod's PORT is not the front door's PORT).
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { z } from 'zod';
import { HisteqError } from '../common/errors.js';

/** The repository root, from dist/src/local/ where this file runs compiled. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const schema = z.object({
  PORT: int(0, 65535).default(8080),
  PODS: int(1, 64).default(5),
  ZK_HOSTS: z.string().min(1).optional(),
  SHARED_DIR: z.string().min(1).optional(),
  LOG_DIR: z.string().min(1).optional(),
  // Passed through to the pods (validated there); the launcher sends it when it polls them.
  API_TOKEN: z.string().min(1).optional(),
});

export interface LocalConfig {
  /** The front door's port: the one URL to open. */
  port: number;
  pods: number;
  /** An existing ZooKeeper; when absent the launcher starts one on a free loopback port. */
  zkHosts: string | undefined;
  sharedDir: string;
  logDir: string;
  apiToken: string | undefined;
}

export function loadLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new HisteqError('BAD_CONFIG', `Invalid local cluster settings — ${lines.join('; ')}.`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    pods: e.PODS,
    zkHosts: e.ZK_HOSTS,
    sharedDir: resolve(e.SHARED_DIR ?? resolve(REPO_ROOT, '.local/shared')),
    logDir: resolve(e.LOG_DIR ?? resolve(REPO_ROOT, '.local/logs')),
    apiToken: e.API_TOKEN,
  };
}
