import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * A small renderer for the subset of kustomize the k8s/ folder uses, so tests see the objects
 * `kubectl apply -k` would send: `resources` (files and kustomization directories),
 * `namespace`, and `patches` with an inline RFC 6902 JSON patch and a target. Any other field
 * is refused rather than silently ignored, so a manifest change that needs a richer renderer
 * fails loudly here.
 */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export interface Rendered {
  objects: K8sObject[];
  /** Every manifest file read, absolute, in order (kustomization files excluded). */
  files: string[];
}

interface PatchTarget {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}
interface PatchOp {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'patches']);
/** Kinds that are not namespaced (those the manifests could plausibly contain). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'PersistentVolume',
  'StorageClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'IngressClass',
]);

/** Parses every YAML document of a file; YAML errors and empty documents throw. */
export async function loadYamlFile(file: string): Promise<unknown[]> {
  const docs = parseAllDocuments(await readFile(file, 'utf8'));
  const values: unknown[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) values.push(value);
  }
  return values;
}

export async function renderKustomization(dir: string): Promise<Rendered> {
  const kustomizationFile = path.join(dir, 'kustomization.yaml');
  const [k] = (await loadYamlFile(kustomizationFile)) as Array<Record<string, unknown>>;
  if (!k || k.kind !== 'Kustomization')
    throw new Error(`${kustomizationFile}: not a Kustomization`);
  for (const key of Object.keys(k)) {
    if (!KNOWN_FIELDS.has(key)) throw new Error(`${kustomizationFile}: unsupported field ${key}`);
  }
  const objects: K8sObject[] = [];
  const files: string[] = [];
  for (const entry of (k.resources ?? []) as string[]) {
    const target = path.resolve(dir, entry);
    if ((await stat(target)).isDirectory()) {
      const nested = await renderKustomization(target);
      objects.push(...nested.objects);
      files.push(...nested.files);
    } else {
      files.push(target);
      for (const doc of await loadYamlFile(target)) objects.push(asObject(doc, target));
    }
  }
  for (const patch of (k.patches ?? []) as Array<{ target: PatchTarget; patch: string }>) {
    const ops = parseOps(patch.patch, kustomizationFile) as PatchOp[];
    const matches = objects.filter((o) => matchesTarget(o, patch.target));
    if (matches.length === 0) throw new Error(`${kustomizationFile}: a patch matches nothing`);
    for (const o of matches) for (const op of ops) applyOp(o, op);
  }
  if (typeof k.namespace === 'string') setNamespace(objects, k.namespace);
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (seen.has(id)) throw new Error(`duplicate object ${id}`);
    seen.add(id);
  }
  return { objects, files };
}

function asObject(doc: unknown, file: string): K8sObject {
  const o = doc as Partial<K8sObject>;
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || !o.metadata?.name) {
    throw new Error(`${file}: every document needs apiVersion, kind and metadata.name`);
  }
  return o as K8sObject;
}

function parseOps(text: string, file: string): unknown {
  const docs = parseAllDocuments(text);
  if (docs.length !== 1 || docs[0]!.errors.length > 0) throw new Error(`${file}: bad patch`);
  const ops: unknown = docs[0]!.toJS();
  if (!Array.isArray(ops)) throw new Error(`${file}: only JSON 6902 patches are supported`);
  return ops;
}

function matchesTarget(o: K8sObject, t: PatchTarget): boolean {
  const [group, version] = o.apiVersion.includes('/')
    ? (o.apiVersion.split('/') as [string, string])
    : ['', o.apiVersion];
  return (
    (t.group === undefined || t.group === group) &&
    (t.version === undefined || t.version === version) &&
    (t.kind === undefined || t.kind === o.kind) &&
    (t.name === undefined || t.name === o.metadata.name) &&
    (t.namespace === undefined || t.namespace === o.metadata.namespace)
  );
}

/** RFC 6901 pointer → parent container and final key. */
function locate(root: unknown, pointer: string): { parent: unknown; key: string } {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  let parent = root;
  for (const part of parts.slice(0, -1)) {
    parent = (parent as Record<string, unknown>)[part];
    if (parent === undefined) throw new Error(`patch path ${pointer} does not exist`);
  }
  return { parent, key: parts.at(-1)! };
}

function applyOp(o: K8sObject, op: PatchOp): void {
  const { parent, key } = locate(o, op.path);
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key);
    if (op.op === 'add') parent.splice(index, 0, op.value);
    else if (index >= parent.length) throw new Error(`${op.op}: ${op.path} does not exist`);
    else if (op.op === 'replace') parent[index] = op.value;
    else if (op.op === 'remove') parent.splice(index, 1);
    else if (JSON.stringify(parent[index]) !== JSON.stringify(op.value)) {
      throw new Error(`test failed at ${op.path}`);
    }
    return;
  }
  const container = parent as Record<string, unknown>;
  if (op.op === 'add') container[key] = op.value;
  else if (!(key in container)) throw new Error(`${op.op}: ${op.path} does not exist`);
  else if (op.op === 'replace') container[key] = op.value;
  else if (op.op === 'remove') delete container[key];
  else if (JSON.stringify(container[key]) !== JSON.stringify(op.value)) {
    throw new Error(`test failed at ${op.path}`);
  }
}

/** kustomize's namespace transformer, as far as these manifests need it. */
function setNamespace(objects: K8sObject[], namespace: string): void {
  for (const o of objects) {
    if (o.kind === 'Namespace') o.metadata.name = namespace;
    else if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = namespace;
    if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') {
      for (const s of (o.subjects ?? []) as Array<{ kind: string; namespace?: string }>) {
        if (s.kind === 'ServiceAccount') s.namespace = namespace;
      }
    }
  }
}
