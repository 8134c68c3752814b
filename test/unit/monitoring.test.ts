import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PodMetrics } from '../../src/pod/metrics.js';
import { loadYamlFile, renderKustomization, type K8sObject } from '../support/kustomize.js';
import { REPO_ROOT } from '../support/paths.js';

/**
 * The monitoring examples next to the manifests: the PodMonitor must select the app's pods and
 * their metrics port, and every series the Grafana dashboard queries must be one the pods
 * really export (read from a live PodMetrics registry, not from a list kept by hand).
 */
const MONITORING = path.join(REPO_ROOT, 'k8s', 'monitoring');

interface Deployment extends K8sObject {
  spec: {
    template: {
      metadata: { labels: Record<string, string> };
      spec: { containers: { ports?: { name?: string; containerPort: number }[] }[] };
    };
  };
}
interface PodMonitor extends K8sObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { matchNames: string[] };
    podMetricsEndpoints: { port: string; path: string }[];
  };
}

async function exportedSeries(): Promise<Set<string>> {
  const metrics = new PodMetrics('pod-x', {
    isLeader: () => true,
    zkState: () => 'connected',
    pool: () => ({ threads: 2, utilization: 0, queued: 0, busy: 0 }),
    zkOperations: () => ({ exists: 1 }),
    jobsByState: () => ({ done: 1 }),
  });
  const names = new Set<string>();
  for (const line of (await metrics.render()).body.split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (!typed) continue;
    names.add(typed[1]);
    if (typed[2] === 'histogram')
      for (const s of ['_bucket', '_sum', '_count']) names.add(typed[1] + s);
  }
  return names;
}

describe('k8s/monitoring', () => {
  it('the PodMonitor scrapes the app pods’ metrics port in their namespace', async () => {
    const [monitor] = (await loadYamlFile(path.join(MONITORING, 'pod-monitor.yaml'))) as [
      PodMonitor,
    ];
    assert.equal(monitor.kind, 'PodMonitor');
    const { objects } = await renderKustomization(path.join(REPO_ROOT, 'k8s'));
    const app = objects.find((o) => o.kind === 'Deployment') as Deployment;
    const labels = app.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) {
      assert.equal(labels[k], v, `selector ${k}=${v} matches the pods`);
    }
    assert.deepEqual(monitor.spec.namespaceSelector.matchNames, [app.metadata.namespace]);
    const ports = app.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
    for (const endpoint of monitor.spec.podMetricsEndpoints) {
      assert.ok(
        ports.some((p) => p.name === endpoint.port),
        `port ${endpoint.port} exists`,
      );
      assert.equal(endpoint.path, '/metrics');
    }
  });

  it('every series the Grafana dashboard queries is exported by the pods', async () => {
    const dashboard = JSON.parse(
      await readFile(path.join(MONITORING, 'grafana-dashboard.json'), 'utf8'),
    ) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exported = await exportedSeries();
    assert.ok(exported.has('histeq_task_pixels_total') && exported.size > 20, [...exported].join());
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      assert.ok(panel.targets.length > 0, panel.title);
      for (const { expr } of panel.targets)
        for (const m of expr.match(/histeq_[a-z0-9_]+/g) ?? []) queried.add(m);
    }
    assert.ok(queried.size >= 10, `${queried.size} series queried`);
    assert.deepEqual(
      [...queried].filter((m) => !exported.has(m)),
      [],
    );
  });
});
