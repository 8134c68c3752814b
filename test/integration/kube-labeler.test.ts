import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../src/common/log.js';
import { KubeApiError, KubeRoleLabeler } from '../../src/cluster/kube-labeler.js';
import { FakeKubeApi, kubeConfigFor } from '../support/fake-kube-api.js';
import { captureLogger } from '../support/capture-logger.js';

const NS = 'demo';
const APP = 'histeq';
const FAST_RETRY = { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 };

describe('KubeRoleLabeler against a fake API server', () => {
  let api: FakeKubeApi;
  let kc: KubeConfig;

  before(async () => {
    api = await FakeKubeApi.start();
    kc = kubeConfigFor(api, NS);
  });
  after(() => api.close());
  beforeEach(() => {
    api.requests.length = 0;
    api.setForbidden([]);
    api.addPod(NS, 'web-0', { app: APP });
    api.addPod(NS, 'web-1', { app: APP, role: 'master' }); // stale master
    api.addPod(NS, 'web-2', { app: APP });
    api.addPod(NS, 'other-0', { app: 'other', role: 'master' }); // another app: not ours
  });

  const labeler = (logger: Logger, podName = 'web-0', kubeConfig = kc) =>
    new KubeRoleLabeler({
      kubeConfig,
      namespace: NS,
      podName,
      appLabel: APP,
      logger,
      retry: FAST_RETRY,
    });

  it('becomeMaster merge-patches its own label and unlabels the stale master', async () => {
    const { logger } = captureLogger();
    await labeler(logger).becomeMaster();

    const patches = api.requestsTo('PATCH', `/api/v1/namespaces/${NS}/pods/`);
    assert.equal(patches[0]?.path, `/api/v1/namespaces/${NS}/pods/web-0`);
    assert.equal(patches[0]?.contentType, 'application/merge-patch+json');
    assert.deepEqual(patches[0]?.body, { metadata: { labels: { role: 'master' } } });
    assert.equal(patches[0]?.authorization, `Bearer ${api.token}`);

    const lists = api.requestsTo('GET', `/api/v1/namespaces/${NS}/pods`);
    assert.equal(lists.length, 1);
    assert.equal(lists[0]?.query.labelSelector, `app=${APP},role=master`);

    assert.equal(patches.length, 2);
    assert.equal(patches[1]?.path, `/api/v1/namespaces/${NS}/pods/web-1`);
    assert.equal(patches[1]?.contentType, 'application/merge-patch+json');
    assert.deepEqual(patches[1]?.body, { metadata: { labels: { role: null } } });

    assert.deepEqual(api.labelsOf(NS, 'web-0'), { app: APP, role: 'master' });
    assert.deepEqual(api.labelsOf(NS, 'web-1'), { app: APP });
    assert.deepEqual(api.labelsOf(NS, 'web-2'), { app: APP });
    assert.deepEqual(api.labelsOf(NS, 'other-0'), { app: 'other', role: 'master' });
  });

  it('is idempotent and stepDown removes only its own label', async () => {
    const { logger } = captureLogger();
    const l = labeler(logger);
    await l.becomeMaster();
    await l.becomeMaster();
    assert.deepEqual(api.labelsOf(NS, 'web-0'), { app: APP, role: 'master' });

    api.requests.length = 0;
    await l.stepDown();
    await l.stepDown();
    assert.deepEqual(api.labelsOf(NS, 'web-0'), { app: APP });
    const patches = api.requestsTo('PATCH', '/api/v1/');
    assert.ok(patches.every((p) => p.path === `/api/v1/namespaces/${NS}/pods/web-0`));
    assert.ok(patches.every((p) => p.contentType === 'application/merge-patch+json'));
    assert.deepEqual(patches[0]?.body, { metadata: { labels: { role: null } } });
  });

  it('close() steps down a master and later calls are refused', async () => {
    const { logger } = captureLogger();
    const l = labeler(logger, 'web-2');
    await l.becomeMaster();
    assert.equal(api.labelsOf(NS, 'web-2')?.role, 'master');
    await l.close();
    await l.close();
    assert.equal(api.labelsOf(NS, 'web-2')?.role, undefined);
    assert.throws(() => l.becomeMaster(), { code: 'INTERNAL' });
  });

  it('a 403 on patch gives one clear log line and a typed error, without retrying', async () => {
    api.setForbidden(['patch']);
    const { logger, events } = captureLogger();
    const err = await labeler(logger)
      .becomeMaster()
      .then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof KubeApiError);
    assert.equal(err.code, 'BAD_CONFIG');
    assert.equal(err.status, 403);
    assert.equal(err.missingPermission, `patch pods in namespace "${NS}"`);
    assert.match(err.message, /RBAC forbids patch pods in namespace "demo"/);
    assert.equal(api.requestsTo('PATCH', '/api/v1/').length, 1, 'no retries on 403');
    const errors = events().filter((e) => e.level === 'error');
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]?.msg), /may not patch pods in namespace "demo"/);
    assert.equal(api.labelsOf(NS, 'web-0')?.role, undefined);
  });

  it('a 403 on list names the list permission', async () => {
    api.setForbidden(['list']);
    const { logger, events } = captureLogger();
    await assert.rejects(labeler(logger).becomeMaster(), {
      code: 'BAD_CONFIG',
      missingPermission: `list pods in namespace "${NS}"`,
    });
    assert.ok(events().some((e) => /may not list pods/.test(String(e.msg))));
  });

  it('retries an unreachable API server a bounded number of times', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    const dead = kubeConfigFor({ url: `http://127.0.0.1:${port}`, token: 't' }, NS);
    const { logger, events } = captureLogger();
    const l = labeler(logger, 'web-0', dead);
    const started = Date.now();
    await assert.rejects(l.becomeMaster(), { code: 'CLUSTER_DEGRADED', status: undefined });
    assert.ok(Date.now() - started < 5000);
    const warns = events().filter((e) => e.level === 'warn');
    assert.equal(warns.length, FAST_RETRY.attempts - 1);
    assert.match(String(warns[0]?.msg), /label pod web-0 role=master failed, retrying/);
  });

  it('a 403 on stepDown (an inherited label at start) names the patch permission', async () => {
    api.setForbidden(['patch']);
    const { logger, events } = captureLogger();
    await assert.rejects(labeler(logger, 'web-1').stepDown(), {
      code: 'BAD_CONFIG',
      missingPermission: `patch pods in namespace "${NS}"`,
    });
    const errors = events().filter((e) => e.level === 'error');
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]?.msg), /may not patch pods .*k8s\/rbac\.yaml/);
    assert.equal(api.labelsOf(NS, 'web-1')?.role, 'master', 'nothing changed');
  });

  it('a 401 (no or revoked token) gives one clear log line and BAD_CONFIG', async () => {
    const { logger, events } = captureLogger();
    const noToken = kubeConfigFor({ url: api.url, token: 'revoked' }, NS);
    await assert.rejects(labeler(logger, 'web-0', noToken).becomeMaster(), {
      code: 'BAD_CONFIG',
      status: 401,
    });
    const errors = events().filter((e) => e.level === 'error');
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]?.msg), /rejected this pod's credentials/);
  });

  it('the fake lists pods by label selector in a namespace and across namespaces', async () => {
    api.addPod('other-ns', 'web-9', { app: APP, role: 'master' });
    const core = kc.makeApiClient(CoreV1Api);
    const names = (list: { items: Array<{ metadata?: { name?: string } }> }) =>
      list.items.map((p) => p.metadata?.name).sort();
    const selector = `app=${APP},role=master`;
    assert.deepEqual(
      names(await core.listNamespacedPod({ namespace: NS, labelSelector: selector })),
      ['web-1'],
    );
    const all = await core.listPodForAllNamespaces({ labelSelector: selector });
    assert.deepEqual(names(all), ['web-1', 'web-9']);
    assert.deepEqual(api.requestsTo('GET', '/api/v1/pods').at(-1)?.query, {
      labelSelector: selector,
    });
    // Existence and inequality, as `kubectl get pods -l 'app=histeq,!role'` sends them.
    const workers = await core.listNamespacedPod({
      namespace: NS,
      labelSelector: `app=${APP},!role`,
    });
    assert.deepEqual(names(workers), ['web-0', 'web-2']);
    const notOurs = await core.listPodForAllNamespaces({ labelSelector: `role,app!=${APP}` });
    assert.deepEqual(names(notOurs), ['other-0']);

    api.setForbidden(['list']);
    await assert.rejects(core.listPodForAllNamespaces({ labelSelector: selector }), (err) => {
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 403);
      const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as {
        message: string;
      };
      assert.match(body.message, /cannot list resource "pods" .* at the cluster scope/);
      return true;
    });
  });

  it('the fake refuses the client default JSON-Patch content type with 415', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const body = { metadata: { labels: { role: 'master' } } };
    await assert.rejects(core.patchNamespacedPod({ name: 'web-0', namespace: NS, body }), (err) => {
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 415);
      return true;
    });
    assert.equal(api.requests.at(-1)?.contentType, 'application/json-patch+json');
  });
});
