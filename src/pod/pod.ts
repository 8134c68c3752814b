import { MasterDuties } from './master-duties.js';
import { TaskBoards } from '../jobs/shared-boards.js';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
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
import { LiveAttempts, withLiveAttempts } from '../jobs/master/live-view.js';
import { JobOrchestrator } from '../jobs/master/orchestrator.js';
import { JOBS_PATH, PARAMS_PATH, sharedLayout } from '../jobs/paths.js';
import { TaskExecutor } from '../jobs/worker/task-executor.js';
import { TaskWorker } from '../jobs/worker/task-worker.js';
import { loadSharp } from '../imaging/codec.js';
import { deflateLibrary } from '../imaging/tiff-codec/deflate.js';
import { ImagePool } from '../pool/image-pool.js';
import type { WebEvents } from '../web/deps.js';
import { bindHttp, createWebServer, type WebServer } from '../web/server.js';
import { ClusterState } from './cluster-state.js';
import { createPodLogs, podMetrics } from './pod-parts.js';
import type { PodLogs } from './pod-logs.js';
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
      /** Aborted when stop() begins: readiness turns false at once. */
      shutdown: AbortController;
      pool: ImagePool;
      session: ZkSession;
      web: WebServer;
      membership: Membership;
      election: LeaderElection;
      labeler: RoleLabeler;
      masterLabel: MasterLabel;
      cluster: ClusterState;
      worker: TaskWorker;
      orchestrator: JobOrchestrator;
      params: ParamsWatcher;
      /** Null when there is no log source (a pod started by hand outside both modes). */
      podLogs: PodLogs | null;
    },
    readonly url: string,
  ) {}

  /**
   * Builds the parts in the order they depend on each other. The port is bound first (the
   * url is the pod's identity) and the election joined last, once everything a master needs
   * exists and listens for `elected`.
   */
  static async start(config: Config, log: Logger): Promise<Pod> {
    const shutdown = new AbortController();
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
    // Not a candidate until joined at the end; until then fence() refuses every master write.
    const election = new LeaderElection({ session, logger: log, pod: config.pod });
    const store = new JobStore(session, () => election.fence());
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

    const http = await bindHttp(config.port, config.host);
    const { port } = http.address() as AddressInfo;
    const url =
      config.podUrl ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
    const membership = await Membership.create({
      session,
      logger: log,
      self: { pod: config.pod, url, pid: process.pid, role: 'worker', version: VERSION },
    });
    const labeler = await createRoleLabeler(config, url, log.child({ component: 'labeler' }));
    const masterLabel = new MasterLabel({
      labeler,
      isLeader: () => election.isLeader,
      logger: log.child({ component: 'labeler' }),
    });
    // A container restarted in a pod that led keeps the pod's role=master label: drop it
    // before anything can route to this process as the master (retried in the background).
    await masterLabel.remove();
    const cluster = new ClusterState({
      session,
      membership,
      zkHosts: config.zkHosts,
      minPods: config.minPods,
      isLeader: () => election.isLeader,
      tasksOf: (pod) => (pod === config.pod ? worker.runningTasks : undefined),
      events,
    });
    worker.on('busy', () => cluster.refresh());
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
      taskPods: () => membership.members.length - (config.masterTakesTasks ? 0 : 1),
      degraded: () => cluster.degraded(),
    });
    orchestrator.on('job_status', (s) => events.emit('job_status', s));
    orchestrator.on('job_pruned', (id) => events.emit('job_deleted', { id }));
    const liveAttempts = new LiveAttempts({ boards, claims, store, logger: log });
    orchestrator.on('job_status', (s) => liveAttempts.track(s.id, s.state));
    liveAttempts.on('job_attempts', (a) => events.emit('job_attempts', a));
    const metrics = podMetrics(config, { session, pool, election, orchestrator, worker });
    const podLogs = await createPodLogs(config, log, membership, events);
    const leading = () => orchestrator.active && election.isLeader;

    const web = createWebServer(
      {
        logger: log,
        pod: config.pod,
        sharedDir: shared.root,
        maxUploadBytes: config.maxUploadBytes,
        uploadRatePerMinute: config.uploadRatePerMinute,
        uploadIdleTimeoutMs: config.uploadIdleTimeoutMs,
        resumableUploadExpiryMs: config.resumableUploadExpiryMs,
        trustProxy: config.trustProxy,
        metricsPort: config.metricsPort,
        allowedOrigins: config.allowedOrigins,
        storageReserveBytes: config.storageReserveBytes,
        apiToken: config.apiToken,
        role: () => {
          const snap = cluster.snapshot();
          return { isMaster: leading(), masterPod: snap.master, masterUrl: snap.masterUrl };
        },
        jobs: withLiveAttempts(orchestrator, { live: liveAttempts, store, claims }),
        cluster: () => cluster.snapshot(),
        events,
        readiness: () =>
          podReadiness({
            zkState: session.state,
            leading: leading(),
            mayCarryMasterLabel: masterLabel.mayCarry,
            stopping: shutdown.signal.aborted,
          }),
        metrics: () => metrics.render(),
        recentLogs: () => podLogs?.recent() ?? [],
        liveAttempts: () => liveAttempts.latest(),
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
        settings: liveSettings(session, () => cluster.snapshot().pods.map((p) => p.pod)),
      },
      { server: http },
    );
    await web.listen(port, config.host); // the metrics port, when set
    worker.start();

    const duties = new MasterDuties({
      election,
      membership,
      masterLabel,
      orchestrator,
      liveAttempts,
      worker,
      podLogs,
      masterTakesTasks: config.masterTakesTasks,
      logger: log,
    });
    election.on('elected', () => void duties.start());
    election.on('demoted', (reason) => void duties.stop(reason));
    const parts = { shutdown, pool, session, web, membership, election, labeler, masterLabel };
    const pod = new Pod(
      config,
      log,
      { ...parts, cluster, worker, orchestrator, params, podLogs },
      url,
    );
    await election.join();
    const deflate = deflateLibrary();
    log.info(
      { url, threads: config.poolThreads, version: VERSION, deflate: deflate.library },
      'pod started',
    );
    // Exact either way; deflate TIFFs only take about a third longer to encode.
    if (deflate.why) log.warn({ why: deflate.why }, 'deflate TIFFs are coded with Node zlib');
    return pod;
  }

  /**
   * Graceful shutdown: leadership first (the next pod takes over at once), then stop claiming
   * and finish or release running tasks, then leave the cluster. Idempotent.
   */
  stop(graceMs: number): Promise<void> {
    this.#stopping ??= (async () => {
      const { election, labeler, masterLabel, membership, orchestrator, worker } = this.parts;
      const { web, session, pool, params, cluster } = this.parts;
      this.parts.shutdown.abort();
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
      cluster.close();
      await membership.close().catch(() => {});
      await labeler.close().catch(() => {});
      await session.close();
      await pool.close();
      this.log.info('stopped');
    })();
    return this.#stopping;
  }
}
