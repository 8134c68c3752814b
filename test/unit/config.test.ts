import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('has working defaults and chooses the local labeler outside Kubernetes', () => {
    const c = loadConfig({ POD_NAME: 'pod-1' });
    assert.equal(c.pod, 'pod-1');
    assert.equal(c.zkSessionTimeoutMs, 6000);
    assert.equal(c.maxPixels, 2 ** 32);
    assert.equal(c.maxUploadBytes, 2 * 1024 ** 3);
    assert.equal(c.labeler, 'local');
    assert.ok(c.poolThreads >= 1);
  });

  it('uses the Downward API CPU limit for the pool and the Kubernetes labeler in a cluster', () => {
    const c = loadConfig({
      POD_NAME: 'histeq-0',
      CPU_LIMIT: '3',
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
    });
    assert.equal(c.poolThreads, 3);
    assert.equal(c.labeler, 'kubernetes');
  });

  it('runs pool threads at nice 10 unless POOL_NICE says otherwise (0–19)', () => {
    assert.equal(loadConfig({}).poolNice, 10);
    assert.equal(loadConfig({ POOL_NICE: '0' }).poolNice, 0);
    assert.throws(() => loadConfig({ POOL_NICE: '20' }), /POOL_NICE/);
  });

  it('accepts ZooKeeper ensembles with a chroot', () => {
    assert.equal(
      loadConfig({ ZK_HOSTS: 'zk-0.zk:2181,zk-1.zk:2181/histeq' }).zkHosts,
      'zk-0.zk:2181,zk-1.zk:2181/histeq',
    );
  });

  it('takes ZK_AUTH as user:password and refuses a weak or malformed one', () => {
    assert.equal(loadConfig({ ZK_AUTH: 'histeq:long-enough' }).zkAuth, 'histeq:long-enough');
    assert.equal(loadConfig({}).zkAuth, undefined);
    assert.throws(() => loadConfig({ ZK_AUTH: 'histeq:short' }), /ZK_AUTH: must be user:password/);
    assert.throws(() => loadConfig({ ZK_AUTH: 'no-colon-here' }), /ZK_AUTH/);
  });

  it('refuses bad values with a sentence naming each variable', () => {
    assert.throws(
      () =>
        loadConfig({
          ZK_SESSION_TIMEOUT_MS: 'soon',
          MIN_PODS: '0',
          POD_NAME: 'Pod_1',
          ZK_HOSTS: 'zk:garbage',
        }),
      (err: Error & { code?: string }) =>
        err.code === 'BAD_CONFIG' &&
        /ZK_SESSION_TIMEOUT_MS/.test(err.message) &&
        /MIN_PODS/.test(err.message) &&
        /POD_NAME/.test(err.message) &&
        /ZK_HOSTS: must be host:port/.test(err.message),
    );
  });
});
