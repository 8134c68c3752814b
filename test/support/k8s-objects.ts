import assert from 'node:assert/strict';
import path from 'node:path';
import { before } from 'node:test';
import { renderKustomization, type K8sObject } from './kustomize.js';
import { REPO_ROOT } from './paths.js';

/** The manifests folder and the app's name in it. */
export const K8S = path.join(REPO_ROOT, 'k8s');
export const APP = 'histeq-array';

/* Loosely typed views of the parts the policy looks at; the schemas check the rest. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { containerName?: string; resource: string; divisor?: string };
  };
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}
export interface Container {
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
export interface PodSpec {
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
export interface Workload extends K8sObject {
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
export interface ServiceObject extends K8sObject {
  spec: {
    type?: string;
    clusterIP?: string;
    publishNotReadyAddresses?: boolean;
    selector: Record<string, string>;
    ports: Array<{ name?: string; port: number; targetPort?: string | number; nodePort?: number }>;
  };
}
export interface Pdb extends K8sObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    maxUnavailable?: number | string;
    minAvailable?: number | string;
  };
}

export function findObject<T extends K8sObject>(
  objects: K8sObject[],
  kind: string,
  name: string,
): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind}/${name} is rendered`);
  return found as T;
}

export const ofKindIn = <T extends K8sObject>(objects: K8sObject[], kind: string): T[] =>
  objects.filter((o) => o.kind === kind) as T[];

export const selects = (
  selector: Record<string, string>,
  labels: Record<string, string>,
): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

export const envOf = (c: Container, name: string): EnvVar => {
  const env = c.env?.find((e) => e.name === name);
  assert.ok(env, `${c.name} sets ${name}`);
  return env;
};

/** Kubernetes quantity → number (cores for CPU, bytes for memory). */
export function quantity(q: string): number {
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
export function preStopSeconds(c: Container): number {
  const hook = c.lifecycle?.preStop;
  if (hook?.sleep) return hook.sleep.seconds;
  const cmd = hook?.exec?.command ?? [];
  assert.equal(cmd[0], 'sleep', `${c.name}: preStop is a short sleep`);
  return Number(cmd[1]);
}

/**
 * Renders k8s/ once before a test file's tests (as `kubectl apply -k k8s/` would send it); the
 * accessors read what was rendered.
 */
export function renderedManifests() {
  let rendered: { objects: K8sObject[]; files: string[] } | undefined;
  before(async () => {
    rendered = await renderKustomization(K8S);
  });
  const objects = (): K8sObject[] => rendered!.objects;
  return {
    objects,
    files: (): string[] => rendered!.files,
    find: <T extends K8sObject>(kind: string, name: string): T =>
      findObject<T>(objects(), kind, name),
    ofKind: <T extends K8sObject>(kind: string): T[] => ofKindIn<T>(objects(), kind),
  };
}
