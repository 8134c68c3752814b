import type { RequestHandler } from 'express';
import type { RoleView, WebDeps } from './deps.js';

/** The sentence a worker answers with, naming the master when it is known. */
export function notMasterMessage(pod: string, role: RoleView): string {
  if (role.masterPod) {
    const where = role.masterUrl ? ` at ${role.masterUrl}` : '';
    return `This pod (${pod}) is a worker; the master is ${role.masterPod}${where}.`;
  }
  return `This pod (${pod}) is a worker and no master is elected right now; retry in a moment.`;
}

/**
 * Only the master serves the UI and the API (master-service routes there). A request that
 * reaches a worker anyway (port-forward, a stale route during fail-over) learns where to go.
 */
export function masterOnly(deps: WebDeps): RequestHandler {
  return (_req, res, next) => {
    const role = deps.role();
    if (role.isMaster) {
      next();
      return;
    }
    res
      .status(503)
      .set('Retry-After', '1')
      .set('Cache-Control', 'no-store')
      .json({
        error: notMasterMessage(deps.pod, role),
        master: { pod: role.masterPod, url: role.masterUrl },
      });
  };
}
