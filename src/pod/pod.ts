import { EventEmitter } from 'node:events';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { RoleLabeler } from '../cluster/role-labeler.js';
import type { Config } from '../config.js';
import { LeaderElection, Membership, TaskClaims, ZkSession } from '../coordination/index.js';
import { JobStore } from '../jobs/job-store.js';
import { ParamsWatcher } from '../jobs/mapreduce-params.js';
import { JobOrchestrator } from '../jobs/orchestrator.js';
import { JOBS_PATH, sharedLayout } from '../jobs/paths.js';
import { TaskExecutor } from '../jobs/task-executor.js';
import { TaskWorker } from '../jobs/task-worker.js';
import { ImagePool } from '../pool/image-pool.js';
import type { WebEvents } from '../web/deps.js';
import { createWebServer, type WebServer } from '../web/server.js';
import { ClusterState } from './cluster-state.js';
import { PodMetrics } from './metrics.js';
import { createRoleLabeler } from './role-labeler-factory.js';
import { VERSION } from './version.js';

/**
 * One pod: every pod runs the same wiring. It serves HTTP, joins the cluster, runs tasks, and
 * races for leadership; the winner labels itself master and runs the jobs. Lifecycle:
 * `Pod.start()` → running → `stop()` (idempotent, drains tasks, hands leadership over first).
 */
export class Pod {
  #stopping: Promise<void> | null = null;

  private constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly parts: {
      pool: ImagePool;
      session: ZkSession;
      web: WebServer;
      membership: Membership;
      election: LeaderElection;
      labeler: RoleLabeler;
      worker: TaskWorker;
      orchestrator: JobOrchestrator;
      params: ParamsWatcher;
    },
    readonly url: string,
  ) {}

  static async start(config: Config, log: Logger): Promise<Pod> {
    const pool = ImagePool.create({ threads: config.poolThreads });
    const session = await ZkSession.create({
      connectionString: config.zkHosts,
      sessionTimeoutMs: config.zkSessionTimeoutMs,
      logger: log.child({ component: 'zk' }),
    });
    await session.ensurePath(JOBS_PATH);
    const shared = sharedLayout(config.sharedDir);
    const events = new EventEmitter<WebEvents>();
    const claims = new TaskClaims({ session, logger: log, pod: config.pod });
    const params = new ParamsWatcher(session, log);
    let election: LeaderElection | null = null;
    const store = new JobStore(session, () => {
      if (!election) throw new Error('not elected');
      return election.fence();
    });
    const worker = new TaskWorker({
      session,
      claims,
      executor: new TaskExecutor(pool, shared),
      logger: log,
      concurrency: config.poolThreads,
      maxAttempts: config.maxTaskAttempts,
    });
    let membership: Membership | null = null;
    let cluster: ClusterState | null = null;
    const orchestrator = new JobOrchestrator({
      session,
      store,
      claims,
      pool,
      shared,
      params,
      logger: log,
      pod: config.pod,
      maxPixels: config.maxPixels,
      taskTimeoutMs: config.taskTimeoutMs,
      taskPods: () => (membership?.members.length ?? 1) - (config.masterTakesTasks ? 0 : 1),
      degraded: () => cluster?.degraded() ?? null,
    });
    orchestrator.on('job_status', (s) => events.emit('job_status', s));
    const metrics = new PodMetrics(config.pod, {
      isLeader: () => election?.isLeader ?? false,
      zkState: () => session.state,
      pool: () => pool.stats,
      jobsByState: () => orchestrator.stateCounts(),
    });
    worker.on('task', (kind, outcome, seconds) => {
      metrics.tasks.inc({ kind, outcome });
      if (outcome === 'done') metrics.taskSeconds.observe({ kind }, seconds);
    });

    const web = createWebServer({
      logger: log,
      pod: config.pod,
      sharedDir: shared.root,
      maxUploadBytes: config.maxUploadBytes,
      role: () => {
        const snap = cluster?.snapshot();
        return {
          isMaster: orchestrator.active && (election?.isLeader ?? false),
          masterPod: snap?.master ?? null,
          masterUrl: snap?.masterUrl ?? null,
        };
      },
      jobs: orchestrator,
      cluster: () => cluster!.snapshot(),
      events,
      readiness: () =>
        session.state === 'connected'
          ? { ready: true }
          : { ready: false, reason: `ZooKeeper session is ${session.state}` },
      metrics: () => metrics.render(),
    });
    const { port } = await web.listen(config.port, config.host);
    const url =
      config.podUrl ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;

    membership = await Membership.create({
      session,
      logger: log,
      self: { pod: config.pod, url, pid: process.pid, role: 'worker', version: VERSION },
    });
    const labeler = await createRoleLabeler(config, url, log.child({ component: 'labeler' }));
    cluster = new ClusterState({
      session,
      membership,
      zkHosts: config.zkHosts,
      minPods: config.minPods,
      isLeader: () => election?.isLeader ?? false,
      tasksOf: (pod) => (pod === config.pod ? worker.runningTasks : undefined),
      events,
    });
    worker.on('busy', () => cluster?.refresh());
    worker.start();

    election = await LeaderElection.create({ session, logger: log, pod: config.pod });
    const pod = new Pod(
      config,
      log,
      { pool, session, web, membership, election, labeler, worker, orchestrator, params },
      url,
    );
    election.on('elected', () => void pod.#onElected());
    election.on('demoted', (reason) => void pod.#onDemoted(reason));
    if (election.isLeader) void pod.#onElected();
    log.info({ url, threads: config.poolThreads, version: VERSION }, 'pod started');
    return pod;
  }

  async #onElected(): Promise<void> {
    const { election, labeler, membership, orchestrator, worker } = this.parts;
    this.log.info('elected master');
    try {
      worker.setPaused(!this.config.masterTakesTasks);
      await orchestrator.activate();
      if (!election.isLeader) return;
      await membership.update({ role: 'master' });
      await labeler.becomeMaster();
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'could not take over as master');
    }
  }

  async #onDemoted(reason: string): Promise<void> {
    const { labeler, membership, orchestrator, worker } = this.parts;
    this.log.warn({ reason }, 'no longer master');
    await orchestrator.deactivate();
    worker.setPaused(false);
    await Promise.allSettled([labeler.stepDown(), membership.update({ role: 'worker' })]);
  }

  /**
   * Graceful shutdown: leadership first (the next pod takes over at once), then stop claiming
   * and finish or release running tasks, then leave the cluster. Idempotent.
   */
  stop(graceMs: number): Promise<void> {
    this.#stopping ??= (async () => {
      const { election, labeler, membership, orchestrator, worker, web, session, pool, params } =
        this.parts;
      this.log.info({ graceMs }, 'stopping');
      const wasLeader = election.isLeader;
      await election.close().catch(() => {});
      await orchestrator.deactivate();
      if (wasLeader) await labeler.stepDown().catch(() => {});
      await worker.drain(graceMs);
      params.close();
      await web.close();
      await membership.close().catch(() => {});
      await labeler.close().catch(() => {});
      await session.close();
      await pool.close();
      this.log.info('stopped');
    })();
    return this.#stopping;
  }
}
