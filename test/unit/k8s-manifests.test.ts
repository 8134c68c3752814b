import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { validateAgainstSchemas } from '../support/k8s-schema.js';
import { loadYamlFile, renderKustomization, type K8sObject } from '../support/kustomize.js';
import { REPO_ROOT } from '../support/paths.js';

/**
 * The k8s/ folder as `kubectl apply -k k8s/` would send it: every object valid against the
 * Kubernetes schemas, and the deployment policy the app relies on (probes, drain, Downward API,
 * least-privilege RBAC, restricted security context, selectors that agree).
 */
const K8S = path.join(REPO_ROOT, 'k8s');
const APP = 'histeq-array';

/* Loosely typed views of the parts the policy looks at; the schemas check the rest. */
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { containerName?: string; resource: string; divisor?: string };
  };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}
interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: EnvVar[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type: string };
  };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    fsGroup?: number;
    seccompProfile?: { type: string };
  };
  containers: Container[];
  initContainers?: Container[];
  volumes?: Array<{
    name: string;
    emptyDir?: object;
    persistentVolumeClaim?: { claimName: string };
    [type: string]: unknown;
  }>;
}
interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    serviceName?: string;
    podManagementPolicy?: string;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: PodSpec;
    };
    volumeClaimTemplates?: Array<{ metadata: { name: string } }>;
  };
}
interface ServiceObject extends K8sObject {
  spec: {
    type?: string;
    clusterIP?: string;
    publishNotReadyAddresses?: boolean;
    selector: Record<string, string>;
    ports: Array<{ name?: string; port: number; targetPort?: string | number; nodePort?: number }>;
  };
}
interface Pdb extends K8sObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    maxUnavailable?: number | string;
    minAvailable?: number | string;
  };
}

let objects: K8sObject[];
let files: string[];

const find = <T extends K8sObject>(kind: string, name: string): T => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind}/${name} is rendered`);
  return found as T;
};
const ofKind = <T extends K8sObject>(kind: string): T[] =>
  objects.filter((o) => o.kind === kind) as T[];
const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const envOf = (c: Container, name: string): EnvVar => {
  const env = c.env?.find((e) => e.name === name);
  assert.ok(env, `${c.name} sets ${name}`);
  return env;
};

/** Kubernetes quantity → number (cores for CPU, bytes for memory). */
function quantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  assert.ok(m, `quantity ${q}`);
  const scale: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return Number(m[1]) * (m[2] ? scale[m[2]]! : 1);
}

/** Seconds a preStop hook waits (exec `sleep N` or the native sleep action). */
function preStopSeconds(c: Container): number {
  const hook = c.lifecycle?.preStop;
  if (hook?.sleep) return hook.sleep.seconds;
  const cmd = hook?.exec?.command ?? [];
  assert.equal(cmd[0], 'sleep', `${c.name}: preStop is a short sleep`);
  return Number(cmd[1]);
}

before(async () => {
  ({ objects, files } = await renderKustomization(K8S));
});

describe('k8s/ kustomization', () => {
  it('renders, and lists every manifest in k8s/ (examples/ excepted)', async () => {
    const onDisk = (await readdir(K8S)).filter(
      (f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml',
    );
    const listed = files.map((f) => path.relative(K8S, f));
    assert.deepEqual([...listed].sort(), onDisk.sort(), 'every manifest listed, none missing');
    assert.ok(objects.length >= 12, `${objects.length} objects`);
  });

  it('puts every namespaced object into the one namespace', () => {
    const ns = find('Namespace', 'histeq');
    for (const o of objects) {
      if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, ns.metadata.name, o.kind);
    }
    // The app pods are built for the restricted Pod Security Standard, so it is enforced.
    assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it('every object is valid against the Kubernetes schemas, with no unknown fields', async () => {
    const problems = (await Promise.all(objects.map(validateAgainstSchemas))).flat();
    assert.deepEqual(problems, []);
  });

  it('the schema check does catch wrong types and misspelt fields', async () => {
    const deployment = structuredClone(find<Workload>('Deployment', APP));
    const c = deployment.spec.template.spec.containers[0]!;
    (c.ports![0] as { containerPort: unknown }).containerPort = '8080';
    (c as unknown as Record<string, unknown>).readinesProbe = c.readinessProbe;
    const problems = await validateAgainstSchemas(deployment);
    assert.ok(
      problems.some((p) => /containerPort must be integer/.test(p)),
      problems.join(),
    );
    assert.ok(problems.some((p) => /readinesProbe is not a field of V1Container/.test(p)));
  });

  it('examples/ are valid too, and the kind overlay only narrows the shared claim', async () => {
    const examples = path.join(K8S, 'examples');
    for (const f of (await readdir(examples)).filter((n) => n.endsWith('.yaml'))) {
      for (const doc of await loadYamlFile(path.join(examples, f))) {
        const o = doc as K8sObject;
        assert.deepEqual(await validateAgainstSchemas(o), [], f);
        assert.equal(o.metadata.namespace, 'histeq', f);
        const backend = o.kind === 'Service' ? (o as ServiceObject).spec.selector : undefined;
        if (backend) assert.deepEqual(backend, { app: APP, role: 'master' }, f);
      }
    }
    const kind = await renderKustomization(path.join(examples, 'kind'));
    assert.equal(kind.objects.length, objects.length);
    const claim = kind.objects.find((o) => o.kind === 'PersistentVolumeClaim') as K8sObject & {
      spec: { accessModes: string[] };
    };
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
    const base = (o: K8sObject) => JSON.stringify(o);
    const changed = kind.objects.filter((o, i) => base(o) !== base(objects[i]!));
    assert.deepEqual(
      changed.map((o) => o.kind),
      ['PersistentVolumeClaim'],
    );
  });

  it('no image uses a floating tag', () => {
    for (const w of [...ofKind<Workload>('Deployment'), ...ofKind<Workload>('StatefulSet')]) {
      for (const c of w.spec.template.spec.containers) {
        const tag = /:([^:/@]+)$/.exec(c.image)?.[1];
        assert.ok(tag && tag !== 'latest', `${c.image} has a pinned tag`);
      }
    }
  });
});

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

describe('the ZooKeeper ensemble', () => {
  let zk: Workload;
  let c: Container;
  before(() => {
    zk = find<Workload>('StatefulSet', 'zk');
    c = zk.spec.template.spec.containers[0]!;
  });

  it('runs 3 servers of the official 3.9 image, started in parallel', () => {
    assert.equal(zk.spec.replicas, 3);
    assert.match(c.image, /^zookeeper:3\.9(\.\d+)?$/);
    // OrderedReady would deadlock: zk-0 is only ready in a quorum zk-1/zk-2 cannot join yet.
    assert.equal(zk.spec.podManagementPolicy, 'Parallel');
  });

  it('names every server by its stable DNS name and derives myid from the ordinal', () => {
    const headless = find<ServiceObject>('Service', zk.spec.serviceName!);
    assert.equal(headless.spec.clusterIP, 'None');
    assert.equal(headless.spec.publishNotReadyAddresses, true);
    assert.ok(selects(headless.spec.selector, zk.spec.template.metadata.labels));
    const servers = envOf(c, 'ZOO_SERVERS').value!.trim().split(/\s+/);
    assert.deepEqual(
      servers,
      [0, 1, 2].map((i) => `server.${i + 1}=zk-${i}.${headless.metadata.name}:2888:3888;2181`),
    );
    assert.match(c.command?.join(' ') ?? '', /ZOO_MY_ID=\$\(\( \$\{HOSTNAME##\*-\} \+ 1 \)\)/);
  });

  it('has liveness and readiness probes using only whitelisted four-letter words', () => {
    const allowed = envOf(c, 'ZOO_4LW_COMMANDS_WHITELIST').value!.split(',');
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      assert.ok(probe?.exec, 'exec probe');
      const word = /printf (\w+)/.exec(probe.exec.command.join(' '))?.[1];
      assert.ok(word && allowed.includes(word), `${word} is whitelisted`);
    }
    // Ready means serving in a quorum, which `srvr` reports as its Mode.
    assert.match(c.readinessProbe!.exec!.command.join(' '), /srvr.*Mode/);
  });

  it('keeps data and transaction logs on its persistent volume', () => {
    const [template] = zk.spec.volumeClaimTemplates ?? [];
    const mount = c.volumeMounts?.find((m) => m.name === template?.metadata.name);
    assert.equal(mount?.mountPath, '/data');
    assert.ok(envOf(c, 'ZOO_DATA_LOG_DIR').value!.startsWith('/data/'));
  });

  it('has resources, a non-root security context and a quorum-keeping budget', () => {
    assert.ok(c.resources?.requests?.memory && c.resources.limits?.memory);
    const pod = zk.spec.template.spec;
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
    const pdb = ofKind<Pdb>('PodDisruptionBudget').find((p) =>
      selects(p.spec.selector.matchLabels, zk.spec.template.metadata.labels),
    );
    assert.equal(pdb?.spec.maxUnavailable, 1, '2 of 3 keep the quorum');
  });
});

describe('pod templates against the restricted Pod Security Standard', () => {
  it('every workload passes, since its namespace enforces it', () => {
    const allowedVolumes = new Set([
      'configMap',
      'csi',
      'downwardAPI',
      'emptyDir',
      'ephemeral',
      'persistentVolumeClaim',
      'projected',
      'secret',
    ]);
    for (const w of [...ofKind<Workload>('Deployment'), ...ofKind<Workload>('StatefulSet')]) {
      const pod = w.spec.template.spec;
      const where = `${w.kind}/${w.metadata.name}`;
      assert.ok(!pod.hostNetwork && !pod.hostPID && !pod.hostIPC, where);
      for (const v of pod.volumes ?? []) {
        const types = Object.keys(v).filter((k) => k !== 'name');
        assert.ok(
          types.every((t) => allowedVolumes.has(t)),
          `${where}: volume ${v.name}`,
        );
      }
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const sc = c.securityContext ?? {};
        assert.ok(pod.securityContext?.runAsNonRoot || sc.runAsNonRoot, `${where} non-root`);
        assert.notEqual(pod.securityContext?.runAsUser ?? sc.runAsUser, 0, where);
        assert.equal(sc.allowPrivilegeEscalation, false, where);
        assert.ok(sc.capabilities?.drop?.includes('ALL'), where);
        assert.ok(
          (sc.capabilities?.add ?? []).every((cap) => cap === 'NET_BIND_SERVICE'),
          where,
        );
        const seccomp = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
        assert.ok(seccomp === 'RuntimeDefault' || seccomp === 'Localhost', where);
      }
    }
  });
});
