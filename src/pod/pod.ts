import { MasterDuties } from './master-duties.js';
import { TaskBoards } from '../jobs/shared-boards.js';
import { EventEmitter } from 'node:events';
import type { Logger } from '../common/log.js';
import type { RoleLabeler } from '../cluster/role-labeler.js';
import type { Config } from '../config.js';
import { LeaderElection, Membership, TaskClaims, ZkSession } from '../coordination/index.js';
import { FaultInjector } from '../jobs/fault-injection.js';
import { JobStore } from '../jobs/job-store.js';
import { liveSettings } from '../jobs/live-settings.js';
import { ParamsWatcher } from '../jobs/mapreduce-params.js';
import { ParamsReporter } from '../jobs/params-report.js';
import { readPodFigures } from './pod-figures.js';
import { withLiveAttempts } from '../jobs/master/live-view.js';
import { JobOrchestrator } from '../jobs/master/orchestrator.js';
import { JOBS_PATH, PARAMS_PATH, sharedLayout } from '../jobs/paths.js';
import { TaskExecutor } from '../jobs/worker/task-executor.js';
import { TaskWorker } from '../jobs/worker/task-worker.js';
import { loadSharp } from '../imaging/codec.js';
import { ImagePool } from '../pool/image-pool.js';
import type { WebEvents } from '../web/deps.js';
import { createWebServer, type WebServer } from '../web/server.js';
import { ClusterState } from './cluster-state.js';
import { createLogSource } from './log-source-factory.js';
import { PodMetrics } from './metrics.js';
import { PodLogs } from './pod-logs.js';
import { MasterLabel } from './master-label.js';
import { podReadiness } from './readiness.js';
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
      masterLabel: MasterLabel;
      worker: TaskWorker;
      orchestrator: JobOrchestrator;
      params: ParamsWatcher;
      /** Null when there is no log source (a pod started by hand outside both modes). */
      podLogs: PodLogs | null;
    },
    readonly url: string,
  ) {}

  static async start(config: Config, log: Logger): Promise<Pod> {
    // libvips loads synchronously (~170 ms): now, before there is a session to starve, rather
    // than on a master's first upload probe or preview.
    await loadSharp();
    const pool = ImagePool.create({ threads: config.poolThreads, nice: config.poolNice });
    const session = await ZkSession.create({
      connectionString: config.zkHosts,
      sessionTimeoutMs: config.zkSessionTimeoutMs,
      logger: log.child({ component: 'zk' }),
      ...(config.zkAuth ? { auth: config.zkAuth } : {}),
    });
    await session.ensurePath(JOBS_PATH);
    if (config.zkAuth) {
      // The live tunables are ours like everything else: made (empty = defaults) or closed
      // here. Existing, the node also keeps /config from being empty, and an empty node under
      // the open root could be deleted and remade open by anyone.
      await session.ensurePath(PARAMS_PATH);
    }
    const shared = sharedLayout(config.sharedDir);
    const events = new EventEmitter<WebEvents>();
    const claims = new TaskClaims({ session, logger: log, pod: config.pod });
    const params = new ParamsWatcher(session, log, new ParamsReporter(session, config.pod, log));
    let election: LeaderElection | null = null;
    const store = new JobStore(session, () => {
      if (!election) throw new Error('not elected');
      return election.fence();
    });
    // Test-only hooks; inert (FaultInjector.none) unless FAULT_INJECTION is set.
    const faults = config.faultInjection
      ? new FaultInjector(config.faultInjection, log.child({ component: 'faults' }))
      : FaultInjector.none;
    // One board per phase folder for the whole pod: the task loop and the master's waiter share it.
    const boards = new TaskBoards(session);
    const worker = new TaskWorker({
      faults,
      session,
      boards,
      claims,
      executor: new TaskExecutor(pool, shared, faults),
      logger: log,
      concurrency: config.poolThreads,
      maxAttempts: config.maxTaskAttempts,
    });
    let membership: Membership | null = null;
    let cluster: ClusterState | null = null;
    let masterLabel: MasterLabel | null = null;
    let self: Pod | null = null;
    let podLogs: PodLogs | null = null;
    const orchestrator = new JobOrchestrator({
      faults,
      session,
      boards,
      store,
      claims,
      pool,
      shared,
      params,
      logger: log,
      pod: config.pod,
      maxPixels: config.maxPixels,
      maxDecodedBytes: config.maxDecodedBytes,
      resultTtlMs: config.resultTtlMs,
      maxActiveJobs: config.maxActiveJobs,
      storageReserveBytes: config.storageReserveBytes,
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
      zkOperations: () => session.operations,
      tasksRunning: () => worker.runningTasks,
    });
    session.on('state', (state) => {
      if (state === 'expired') metrics.sessionsExpired.inc();
    });
    worker.on('task', (kind, outcome, seconds, pixels) => {
      metrics.tasks.inc({ kind, outcome });
      if (outcome !== 'done') return;
      metrics.taskSeconds.observe({ kind }, seconds);
      metrics.taskPixels.inc({ kind }, pixels);
    });

    const web = createWebServer({
      logger: log,
      pod: config.pod,
      sharedDir: shared.root,
      maxUploadBytes: config.maxUploadBytes,
      uploadRatePerMinute: config.uploadRatePerMinute,
      uploadIdleTimeoutMs: config.uploadIdleTimeoutMs,
      trustProxy: config.trustProxy,
      metricsPort: config.metricsPort,
      allowedOrigins: config.allowedOrigins,
      storageReserveBytes: config.storageReserveBytes,
      apiToken: config.apiToken,
      role: () => {
        const snap = cluster?.snapshot();
        return {
          isMaster: orchestrator.active && (election?.isLeader ?? false),
          masterPod: snap?.master ?? null,
          masterUrl: snap?.masterUrl ?? null,
        };
      },
      jobs: withLiveAttempts(orchestrator, { store, claims }),
      cluster: () => cluster!.snapshot(),
      events,
      readiness: () =>
        podReadiness({
          zkState: session.state,
          leading: orchestrator.active && (election?.isLeader ?? false),
          mayCarryMasterLabel: masterLabel?.mayCarry ?? true,
          stopping: self !== null && self.#stopping !== null,
        }),
      metrics: () => metrics.render(),
      recentLogs: () => podLogs?.recent() ?? [],
      figures: () =>
        readPodFigures(config.pod, {
          metrics,
          zkState: () => session.state,
          zkRoundTrip: async () => {
            const started = performance.now();
            await session.exists('/');
            return performance.now() - started;
          },
        }),
      healthSampleMs: config.healthSampleMs,
      settings: liveSettings(session, () => cluster?.snapshot().pods.map((p) => p.pod) ?? []),
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
    masterLabel = new MasterLabel({
      labeler,
      isLeader: () => election?.isLeader ?? false,
      logger: log.child({ component: 'labeler' }),
    });
    // A container restarted in a pod that led keeps the pod's role=master label: drop it
    // before anything can route to this process as the master (retried in the background).
    await masterLabel.remove();
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
    const logSource = await createLogSource(config, log.child({ component: 'pod-logs' }));
    if (logSource) {
      const members = membership;
      podLogs = new PodLogs({
        source: logSource,
        members: () => members.members,
        onMembersChange: (listener) => {
          members.on('change', listener);
          return () => members.off('change', listener);
        },
        events,
      });
    }
    worker.start();

    election = await LeaderElection.create({ session, logger: log, pod: config.pod });
    const pod = new Pod(
      config,
      log,
      {
        pool,
        session,
        web,
        membership,
        election,
        labeler,
        masterLabel,
        worker,
        orchestrator,
        params,
        podLogs,
      },
      url,
    );
    self = pod;
    const duties = new MasterDuties({
      election,
      membership,
      masterLabel,
      orchestrator,
      worker,
      podLogs,
      masterTakesTasks: config.masterTakesTasks,
      logger: log,
    });
    election.on('elected', () => void duties.start());
    election.on('demoted', (reason) => void duties.stop(reason));
    if (election.isLeader) void duties.start();
    log.info({ url, threads: config.poolThreads, version: VERSION }, 'pod started');
    return pod;
  }

  /**
   * Graceful shutdown: leadership first (the next pod takes over at once), then stop claiming
   * and finish or release running tasks, then leave the cluster. Idempotent.
   */
  stop(graceMs: number): Promise<void> {
    this.#stopping ??= (async () => {
      const { election, labeler, masterLabel, membership, orchestrator, worker } = this.parts;
      const { web, session, pool, params } = this.parts;
      this.log.info({ graceMs }, 'stopping');
      this.parts.podLogs?.stop();
      const wasLeader = election.isLeader;
      await election.close().catch(() => {});
      await orchestrator.deactivate();
      if (wasLeader) await masterLabel.remove();
      masterLabel.close();
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
