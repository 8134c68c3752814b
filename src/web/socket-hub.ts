import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { JobAttemptsEvent, JobStatusEvent } from '../jobs/types.js';
import type {
  ClusterAlert,
  ClusterSnapshot,
  JobDeletedEvent,
  NodeLogEvent,
  WebDeps,
  WebEvents,
} from './deps.js';
import { socketTokenCheck } from './auth.js';
import { notMasterMessage } from './master-gate.js';

/** What the server sends to browsers; the browser sends nothing (no client events). */
export interface ServerToClientEvents {
  job_status: (event: JobStatusEvent) => void;
  job_attempts: (event: JobAttemptsEvent) => void;
  job_deleted: (event: JobDeletedEvent) => void;
  cluster: (snapshot: ClusterSnapshot) => void;
  cluster_alert: (alert: ClusterAlert) => void;
  node_log: (event: NodeLogEvent) => void;
}

export interface SocketHub {
  io: Server<Record<string, never>, ServerToClientEvents>;
  close(): Promise<void>;
}

const FORWARDED = [
  'job_status',
  'job_attempts',
  'job_deleted',
  'cluster',
  'cluster_alert',
  'node_log',
] as const;

/**
 * Socket.IO on the web server's http server: forwards the pod's events to every browser and
 * gives a browser that connects late the current state at once. Only the master holds browser
 * connections; a worker refuses them and, when this pod loses the master role, it drops the
 * ones it holds so the browsers reconnect through master-service to the new master.
 */
export function createSocketHub(httpServer: HttpServer, deps: WebDeps): SocketHub {
  const allowed = deps.allowedOrigins?.length ? new Set(deps.allowedOrigins) : null;
  const io = new Server<Record<string, never>, ServerToClientEvents>(httpServer, {
    serveClient: true,
    // Browsers do not apply the same-origin policy to WebSockets: accept only our own pages
    // (scripts and tests send no Origin at all). Origin = Host is what a DNS-rebinding page
    // also satisfies, so ALLOWED_ORIGINS pins the real ones; API_TOKEN is what protects.
    allowRequest: (req, callback) => callback(null, originAllowed(req.headers, allowed)),
  });
  const logger = deps.logger.child({ component: 'socket-hub' });

  io.use((socket, next) => {
    // The token before anything else, so an unauthenticated client gets no state at all.
    const refused = socketTokenCheck(deps.apiToken, socket.handshake);
    if (refused) {
      const err = new Error(refused) as Error & { data?: unknown };
      err.data = { status: 401 };
      next(err);
      return;
    }
    const role = deps.role();
    if (role.isMaster) {
      next();
      return;
    }
    const err = new Error(notMasterMessage(deps.pod, role)) as Error & { data?: unknown };
    err.data = { master: { pod: role.masterPod, url: role.masterUrl } };
    next(err);
  });

  io.on('connection', (socket) => {
    logger.debug({ socket: socket.id }, 'browser connected');
    socket.emit('cluster', deps.cluster());
    for (const status of deps.jobs.latest()) socket.emit('job_status', status);
    for (const attempts of deps.liveAttempts?.() ?? []) socket.emit('job_attempts', attempts);
    for (const line of deps.recentLogs?.() ?? []) socket.emit('node_log', line);
  });

  const listeners = FORWARDED.map((event) => {
    const listener = (payload: never) => {
      if (!deps.role().isMaster) {
        if (io.of('/').sockets.size > 0) {
          logger.info('no longer master: dropping browser connections');
          io.disconnectSockets(true);
        }
        return;
      }
      io.emit(event, payload);
    };
    deps.events.on(event, listener as (...args: WebEvents[typeof event]) => void);
    return { event, listener };
  });

  let closed = false;
  return {
    io,
    close() {
      if (!closed) {
        closed = true;
        for (const { event, listener } of listeners) {
          deps.events.off(event, listener as (...args: WebEvents[typeof event]) => void);
        }
        io.disconnectSockets(true);
        // Not io.close(): that would also close the http server, which the web server owns.
        io.engine.close();
      }
      return Promise.resolve();
    },
  };
}

/** No Origin (not a browser), a pinned origin, or — unpinned — the page's own host. */
export function originAllowed(
  headers: { origin?: string | undefined; host?: string | undefined },
  allowed: ReadonlySet<string> | null,
): boolean {
  if (!headers.origin) return true;
  try {
    const origin = new URL(headers.origin);
    return allowed ? allowed.has(origin.origin) : origin.host === headers.host;
  } catch {
    return false;
  }
}
