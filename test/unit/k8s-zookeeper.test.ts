import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  envOf,
  renderedManifests,
  selects,
  type Container,
  type Pdb,
  type ServiceObject,
  type Workload,
} from '../support/k8s-objects.js';

/** The ZooKeeper StatefulSet in k8s/ (rendered like k8s-manifests.test.ts). */
const { find, ofKind } = renderedManifests();

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
