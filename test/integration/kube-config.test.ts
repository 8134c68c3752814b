import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadKubeConfig } from '../../src/cluster/kube-config.js';
import { KubeRoleLabeler } from '../../src/cluster/kube-labeler.js';
import { FakeKubeApi } from '../support/fake-kube-api.js';
import { captureLogger } from '../support/capture-logger.js';

const NS = 'demo';
const APP = 'histeq';

function restoreEnv(key: string, value: string | undefined): void {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}

describe('loadKubeConfig', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'histeq-kubeconfig-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('loads a kubeconfig file that the labeler can use', async () => {
    const api = await FakeKubeApi.start();
    try {
      api.addPod(NS, 'web-0', { app: APP });
      const file = path.join(dir, 'config');
      // JSON is valid YAML, so this is a real kubeconfig file.
      await writeFile(
        file,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'c', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }],
          users: [{ name: 'u', user: { token: api.token } }],
          contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: NS } }],
          'current-context': 'x',
        }),
      );
      const kc = loadKubeConfig({ inCluster: false, kubeconfigPath: file });
      const { logger } = captureLogger();
      const l = new KubeRoleLabeler({
        kubeConfig: kc,
        namespace: NS,
        podName: 'web-0',
        appLabel: APP,
        logger,
      });
      await l.becomeMaster();
      assert.equal(api.labelsOf(NS, 'web-0')?.role, 'master');
    } finally {
      await api.close();
    }
  });

  it('refuses a missing kubeconfig instead of falling back to localhost:8080', () => {
    assert.throws(
      () => loadKubeConfig({ inCluster: false, kubeconfigPath: path.join(dir, 'nope') }),
      {
        code: 'BAD_CONFIG',
        message: /no kubeconfig at .*nope/,
      },
    );
  });

  it('uses the ServiceAccount mount in a cluster and explains a missing token', async () => {
    assert.throws(() => loadKubeConfig({ inCluster: true, serviceAccountPathPrefix: dir }), {
      code: 'BAD_CONFIG',
      message: /ServiceAccount token .* is missing/,
    });
    const sa = path.join(dir, 'var/run/secrets/kubernetes.io/serviceaccount');
    await mkdir(sa, { recursive: true });
    await writeFile(path.join(sa, 'token'), 'tok');
    await writeFile(path.join(sa, 'namespace'), NS);
    // client-node reads the service address from the environment itself (as in a real pod).
    const saved = [process.env.KUBERNETES_SERVICE_HOST, process.env.KUBERNETES_SERVICE_PORT];
    try {
      process.env.KUBERNETES_SERVICE_HOST = '10.0.0.1';
      process.env.KUBERNETES_SERVICE_PORT = '443';
      const kc = loadKubeConfig({ inCluster: true, serviceAccountPathPrefix: dir });
      assert.equal(kc.getCurrentCluster()?.server, 'https://10.0.0.1:443');
      assert.equal(kc.getContextObject(kc.getCurrentContext())?.namespace, NS);
      delete process.env.KUBERNETES_SERVICE_PORT;
      assert.throws(() => loadKubeConfig({ inCluster: true, serviceAccountPathPrefix: dir }), {
        code: 'BAD_CONFIG',
        message: /KUBERNETES_SERVICE_PORT/,
      });
    } finally {
      restoreEnv('KUBERNETES_SERVICE_HOST', saved[0]);
      restoreEnv('KUBERNETES_SERVICE_PORT', saved[1]);
    }
  });
});
