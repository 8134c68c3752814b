import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PodMetrics } from '../../src/pod/metrics.js';
import { loadYamlFile, renderKustomization, type K8sObject } from '../support/kustomize.js';
import { REPO_ROOT } from '../support/paths.js';

const MONITORING = path.join(REPO_ROOT, 'k8s', 'examples', 'monitoring');

/** Every metric family a real pod's registry describes (# TYPE lines), histograms expanded. */
async function exportedNames(): Promise<Set<string>> {
  const metrics = new PodMetrics('pod-test', {
    isLeader: () => true,
    zkState: () => 'connected',
    pool: () => ({ threads: 2, utilization: 0.5, queued: 0 }),
    zkOperations: () => ({ getData: 1 }),
    jobsByState: () => ({ done: 1 }),
    tasksRunning: () => [],
  });
  const { body } = await metrics.render();
  const names = new Set<string>();
  for (const match of body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}

describe('the monitoring examples next to the manifests', () => {
  it('the Grafana dashboard queries only metrics the pods export, over the last 15 minutes', async () => {
    const dashboard = JSON.parse(
      await readFile(path.join(MONITORING, 'grafana-dashboard.json'), 'utf8'),
    ) as {
      time: { from: string };
      panels: { title: string; targets: { expr: string }[] }[];
    };
    assert.equal(dashboard.time.from, 'now-15m');
    const exported = await exportedNames();
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      assert.ok(panel.targets.length > 0, panel.title);
      for (const { expr } of panel.targets) {
        for (const [name] of expr.matchAll(/\bhisteq_[a-z0-9_]+/g)) {
          assert.ok(exported.has(name), `${panel.title}: ${name} is not exported by a pod`);
          used.add(name);
        }
      }
    }
    for (const wanted of [
      'histeq_tasks_total',
      'histeq_task_duration_seconds_bucket',
      'histeq_pool_utilization',
      'histeq_process_nodejs_eventloop_lag_p99_seconds',
      'histeq_zookeeper_session_state',
    ]) {
      assert.ok(used.has(wanted), `the dashboard shows ${wanted}`);
    }
  });

  it('the PodMonitor selects the Deployment’s pods and scrapes their metrics port', async () => {
    const [monitor] = (await loadYamlFile(path.join(MONITORING, 'podmonitor.yaml'))) as [
      K8sObject & {
        spec: {
          selector: { matchLabels: Record<string, string> };
          podMetricsEndpoints: { port: string; path: string }[];
        };
      },
    ];
    const { objects } = await renderKustomization(path.join(REPO_ROOT, 'k8s'));
    const deployment = objects.find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'histeq-array',
    ) as K8sObject & {
      spec: {
        template: {
          metadata: { labels: Record<string, string>; annotations: Record<string, string> };
          spec: { containers: { ports?: { name?: string; containerPort: number }[] }[] };
        };
      };
    };
    assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(monitor.metadata.namespace, deployment.metadata.namespace);
    const labels = deployment.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
      assert.equal(labels[k], v, k);
    const [endpoint] = monitor.spec.podMetricsEndpoints;
    const port = deployment.spec.template.spec.containers
      .flatMap((c) => c.ports ?? [])
      .find((p) => p.name === endpoint!.port);
    assert.ok(port, `the pods have a port named ${endpoint!.port}`);
    const annotations = deployment.spec.template.metadata.annotations;
    assert.equal(String(port.containerPort), annotations['prometheus.io/port']);
    assert.equal(endpoint!.path, annotations['prometheus.io/path']);
  });
});
