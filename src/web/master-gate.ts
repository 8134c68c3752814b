import type { RequestHandler, Response } from 'express';
import { requireToken } from './auth.js';
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
  // Where the master is, is for clients that hold the token (any form of it: the request would
  // be refused here anyway); others get the same 401 as on the master.
  const authenticate = requireToken(deps.apiToken, { allowQuery: () => true });
  return (req, res, next) => {
    const role = deps.role();
    if (role.isMaster) {
      next();
      return;
    }
    authenticate(req, res, () => answerNotMaster(deps, role, res));
  };
}

function answerNotMaster(deps: WebDeps, role: RoleView, res: Response): void {
  res
    .status(503)
    .set('Retry-After', '1')
    .set('Cache-Control', 'no-store')
    .json({
      error: notMasterMessage(deps.pod, role),
      master: { pod: role.masterPod, url: role.masterUrl },
    });
}
