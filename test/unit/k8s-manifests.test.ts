import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  APP,
  renderedManifests,
  K8S,
  type ServiceObject,
  type Workload,
} from '../support/k8s-objects.js';
import { validateAgainstSchemas } from '../support/k8s-schema.js';
import { loadYamlFile, renderKustomization, type K8sObject } from '../support/kustomize.js';

/**
 * The k8s/ folder as `kubectl apply -k k8s/` would send it: every object valid against the
 * Kubernetes schemas, and the deployment policy the app relies on (probes, drain, Downward API,
 * least-privilege RBAC, restricted security context, selectors that agree).
 */
const { objects, files, find, ofKind } = renderedManifests();

describe('k8s/ kustomization', () => {
  it('renders, and lists every manifest in k8s/ (examples/ excepted)', async () => {
    const onDisk = (await readdir(K8S)).filter(
      (f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml',
    );
    const listed = files().map((f) => path.relative(K8S, f));
    assert.deepEqual([...listed].sort(), onDisk.sort(), 'every manifest listed, none missing');
    assert.ok(objects().length >= 12, `${objects().length} objects()`);
  });

  it('puts every namespaced object into the one namespace', () => {
    const ns = find('Namespace', 'histeq');
    for (const o of objects()) {
      if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, ns.metadata.name, o.kind);
    }
    // The app pods are built for the restricted Pod Security Standard, so it is enforced.
    assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it('every object is valid against the Kubernetes schemas, with no unknown fields', async () => {
    const problems = (await Promise.all(objects().map(validateAgainstSchemas))).flat();
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
    assert.equal(kind.objects.length, objects().length);
    const claim = kind.objects.find((o) => o.kind === 'PersistentVolumeClaim') as K8sObject & {
      spec: { accessModes: string[] };
    };
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
    const base = (o: K8sObject) => JSON.stringify(o);
    const changed = kind.objects.filter((o, i) => base(o) !== base(objects()[i]!));
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
