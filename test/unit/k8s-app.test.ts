import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import {
  APP,
  envOf,
  renderedManifests,
  preStopSeconds,
  quantity,
  selects,
  type Container,
  type Pdb,
  type PodSpec,
  type ServiceObject,
  type Workload,
} from '../support/k8s-objects.js';
import { type K8sObject } from '../support/kustomize.js';
import { REPO_ROOT } from '../support/paths.js';

/** The app's Deployment, Services, RBAC and budget in k8s/ (rendered like k8s-manifests.test.ts). */
const { find, ofKind } = renderedManifests();

describe('the app Deployment', () => {
  let d: Workload;
  let pod: PodSpec;
  let c: Container;
  before(() => {
    d = find<Workload>('Deployment', APP);
    pod = d.spec.template.spec;
    assert.equal(pod.containers.length, 1);
    c = pod.containers[0]!;
  });

  it('runs 5 identical pods of the image this repository builds', async () => {
    assert.equal(d.spec.replicas, 5);
    assert.deepEqual(d.spec.selector.matchLabels, { app: APP });
    assert.ok(selects(d.spec.selector.matchLabels, d.spec.template.metadata.labels));
    // role=master is set at run time by the elected pod; in the template every pod would match.
    assert.equal(d.spec.template.metadata.labels.role, undefined);
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    assert.equal(c.image, `${pkg.name}:${pkg.version}`);
    assert.equal(c.imagePullPolicy, 'IfNotPresent', 'loaded into kind/minikube, not pulled');
  });

  it('gets its identity and CPU limit from the Downward API', () => {
    assert.equal(envOf(c, 'POD_NAME').valueFrom?.fieldRef?.fieldPath, 'metadata.name');
    assert.equal(envOf(c, 'POD_NAMESPACE').valueFrom?.fieldRef?.fieldPath, 'metadata.namespace');
    assert.equal(envOf(c, 'POD_IP').valueFrom?.fieldRef?.fieldPath, 'status.podIP');
    const cpu = envOf(c, 'CPU_LIMIT').valueFrom?.resourceFieldRef;
    assert.deepEqual(cpu, { containerName: c.name, resource: 'limits.cpu', divisor: '1' });
  });

  it('its environment is a valid configuration for a Kubernetes pod', () => {
    // Resolve the Downward API as the kubelet would, plus what Kubernetes itself injects.
    const env: NodeJS.ProcessEnv = {
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    };
    const limits = c.resources?.limits ?? {};
    for (const e of c.env ?? []) {
      const field = e.valueFrom?.fieldRef?.fieldPath;
      const resource = e.valueFrom?.resourceFieldRef;
      if (e.value !== undefined) env[e.name] = e.value;
      else if (field === 'metadata.name') env[e.name] = `${APP}-7d9c6b5f4-x2x9q`;
      else if (field === 'metadata.namespace') env[e.name] = 'histeq';
      else if (field === 'status.podIP') env[e.name] = '10.244.0.17';
      else if (resource?.resource === 'limits.cpu') {
        env[e.name] = String(Math.ceil(quantity(limits.cpu!) / quantity(resource.divisor ?? '1')));
      } else assert.fail(`unexpected env source for ${e.name}`);
    }
    const config = loadConfig(env);
    assert.equal(config.labeler, 'kubernetes');
    assert.equal(config.namespace, 'histeq');
    assert.equal(config.appLabel, d.spec.template.metadata.labels.app);
    assert.equal(config.poolThreads, Math.ceil(quantity(limits.cpu!)));
    assert.equal(config.sharedDir, '/shared');
    const http = c.ports?.find((p) => p.name === 'http');
    assert.equal(config.port, http?.containerPort);
    assert.equal(config.podUrl, `http://10.244.0.17:${http?.containerPort}`);
    assert.ok(config.minPods >= 1 && config.minPods <= d.spec.replicas!, 'MIN_PODS ≤ replicas');
  });

  it('Prometheus scrapes METRICS_PORT, a pod port no Service exposes', () => {
    const env = Object.fromEntries(
      (c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]),
    );
    const config = loadConfig(env);
    const metrics = c.ports?.find((p) => p.name === 'metrics');
    assert.ok(metrics, 'a named metrics port');
    assert.equal(config.metricsPort, metrics.containerPort);
    assert.notEqual(config.metricsPort, config.port, 'not the public port');
    const { annotations } = d.spec.template.metadata;
    assert.equal(annotations?.['prometheus.io/scrape'], 'true');
    assert.equal(Number(annotations?.['prometheus.io/port']), metrics.containerPort);
    assert.equal(annotations?.['prometheus.io/path'], '/metrics');
    for (const svc of ofKind<ServiceObject>('Service')) {
      for (const p of svc.spec.ports) {
        assert.ok(
          p.targetPort !== 'metrics' && p.targetPort !== metrics.containerPort,
          `${svc.metadata.name} does not expose the metrics port`,
        );
      }
    }
  });

  it('reaches ZooKeeper through the client Service', () => {
    const hosts = envOf(c, 'ZK_HOSTS').value!;
    const [servers] = hosts.split('/'); // an optional /chroot follows
    for (const server of servers!.split(',')) {
      const [host, port] = server.split(':');
      const svc = find<ServiceObject>('Service', host!.split('.')[0]!);
      assert.ok(
        svc.spec.ports.some((p) => p.port === Number(port)),
        `${svc.metadata.name} serves ${port}`,
      );
      assert.notEqual(svc.spec.clusterIP, 'None', 'the client Service load-balances');
      const zk = find<Workload>('StatefulSet', 'zk');
      assert.ok(selects(svc.spec.selector, zk.spec.template.metadata.labels));
    }
  });

  it('has startup, liveness (/healthz) and readiness (/readyz) probes on the http port', () => {
    const port = c.ports?.find((p) => p.name === 'http');
    assert.ok(port);
    const probes = {
      startupProbe: '/healthz',
      livenessProbe: '/healthz',
      readinessProbe: '/readyz',
    };
    for (const [key, expected] of Object.entries(probes)) {
      const probe = c[key as keyof typeof probes];
      assert.equal(probe?.httpGet?.path, expected, key);
      assert.ok(probe.httpGet.port === 'http' || probe.httpGet.port === port.containerPort, key);
      assert.ok((probe.periodSeconds ?? 0) > 0 && (probe.timeoutSeconds ?? 0) > 0, key);
    }
    // A slow start is the startup probe's business; liveness must not be lax.
    const startupBudget = c.startupProbe!.periodSeconds! * c.startupProbe!.failureThreshold!;
    assert.ok(startupBudget >= 60, `startup budget ${startupBudget}s`);
    // A demoted master must leave master-service within seconds.
    const readinessLag =
      c.readinessProbe!.periodSeconds! * (c.readinessProbe!.failureThreshold ?? 3);
    assert.ok(readinessLag <= 5, `readiness reacts within ${readinessLag}s`);
  });

  it('requests and limits CPU and memory, requests within limits', () => {
    for (const r of ['cpu', 'memory']) {
      const request = c.resources?.requests?.[r];
      const limit = c.resources?.limits?.[r];
      assert.ok(request && limit, `${r} request and limit`);
      assert.ok(quantity(request) <= quantity(limit), `${r}: ${request} ≤ ${limit}`);
    }
  });

  it('drains within the grace period: preStop sleep + DRAIN_TIMEOUT_MS < terminationGrace', () => {
    const drainSeconds = Number(envOf(c, 'DRAIN_TIMEOUT_MS').value) / 1000;
    const preStop = preStopSeconds(c);
    assert.ok(preStop >= 2 && preStop <= 15, `preStop sleeps ${preStop}s`);
    const grace = pod.terminationGracePeriodSeconds!;
    // Margin for handing over leadership and closing the ZooKeeper session after the drain.
    assert.ok(
      grace >= preStop + drainSeconds + 10,
      `grace ${grace}s vs ${preStop}+${drainSeconds}`,
    );
  });

  it('runs with a restricted security context and a read-only root filesystem', () => {
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.runAsUser, 1000, 'the image user `node`');
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    const sc = c.securityContext;
    assert.equal(sc?.allowPrivilegeEscalation, false);
    assert.equal(sc?.readOnlyRootFilesystem, true);
    assert.deepEqual(sc?.capabilities?.drop, ['ALL']);
    assert.equal(sc?.capabilities?.add, undefined);
    assert.notEqual(sc?.privileged, true);
  });

  it('writes only to /shared (the RWX claim) and /tmp (an emptyDir)', () => {
    const mounts = Object.fromEntries((c.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
    assert.deepEqual(Object.keys(mounts).sort(), ['/shared', '/tmp']);
    const volume = (name: string) => pod.volumes?.find((v) => v.name === name);
    assert.ok(volume(mounts['/tmp']!)?.emptyDir, '/tmp is an emptyDir');
    const claimName = volume(mounts['/shared']!)?.persistentVolumeClaim?.claimName;
    const claim = find<K8sObject & { spec: { accessModes: string[] } }>(
      'PersistentVolumeClaim',
      claimName!,
    );
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteMany']);
  });

  it('uses its own ServiceAccount, bound to a Role with exactly what the app calls', () => {
    assert.equal(pod.serviceAccountName, APP);
    assert.notEqual(pod.automountServiceAccountToken, false, 'the token is needed');
    find('ServiceAccount', APP);
    const role = find<K8sObject & { rules: Array<Record<string, string[]>> }>('Role', APP);
    const rules = role.rules.map((r) => ({
      apiGroups: r.apiGroups,
      resources: r.resources,
      verbs: [...(r.verbs ?? [])].sort(),
    }));
    assert.deepEqual(rules, [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch', 'watch'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    ]);
    assert.equal(ofKind('ClusterRole').length + ofKind('ClusterRoleBinding').length, 0);
    const binding = find<
      K8sObject & {
        roleRef: { kind: string; name: string; apiGroup: string };
        subjects: Array<{ kind: string; name: string; namespace: string }>;
      }
    >('RoleBinding', APP);
    assert.deepEqual(binding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: APP,
    });
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: APP, namespace: d.metadata.namespace },
    ]);
  });

  it('has a PodDisruptionBudget selecting exactly its pods', () => {
    const pdb = ofKind<Pdb>('PodDisruptionBudget').find((p) =>
      selects(p.spec.selector.matchLabels, d.spec.template.metadata.labels),
    );
    assert.ok(pdb);
    assert.deepEqual(pdb.spec.selector.matchLabels, d.spec.selector.matchLabels);
    assert.ok(
      pdb.spec.maxUnavailable !== undefined || pdb.spec.minAvailable !== undefined,
      'a budget is set',
    );
    if (typeof pdb.spec.minAvailable === 'number') {
      assert.ok(pdb.spec.minAvailable < d.spec.replicas!, 'drains can still proceed');
    }
  });

  it('master-service routes port 80 to the pod labelled role=master', () => {
    const svc = find<ServiceObject>('Service', 'master-service');
    assert.deepEqual(svc.spec.selector, { ...d.spec.selector.matchLabels, role: 'master' });
    assert.ok(selects(d.spec.selector.matchLabels, svc.spec.selector), 'a subset of the pods');
    assert.equal(svc.spec.type ?? 'ClusterIP', 'ClusterIP');
    assert.equal(svc.spec.publishNotReadyAddresses, undefined, 'never a not-ready master');
    assert.equal(svc.spec.ports.length, 1);
    const [port] = svc.spec.ports;
    assert.equal(port!.port, 80);
    const target = c.ports?.find(
      (p) => p.name === port!.targetPort || p.containerPort === port!.targetPort,
    );
    assert.equal(target?.containerPort, 8080);
  });
});
