import * as k8s from '@kubernetes/client-node';
import type { K8sObject } from './kustomize.js';

/**
 * Validation of a manifest against the Kubernetes API schemas, offline:
 *
 * 1. `kubernetes-models` (its ajv validators are compiled from the Kubernetes OpenAPI schema):
 *    types, required fields, enums and formats (`containerPort: "8080"` fails here).
 * 2. Unknown fields, which those schemas allow (upstream OpenAPI sets no
 *    additionalProperties: false) but `kubectl apply` rejects with strict field validation:
 *    checked against the field lists of @kubernetes/client-node's generated models, so a typo
 *    such as `readinesProbe` does not slip through as an ignored key.
 *
 * Returns one sentence per problem; an empty list means valid.
 */
export async function validateAgainstSchemas(o: K8sObject): Promise<string[]> {
  const where = `${o.kind}/${o.metadata.name}`;
  const problems: string[] = [];
  let models: Record<string, unknown>;
  try {
    // e.g. "apps/v1" → kubernetes-models/apps/v1, "v1" → kubernetes-models/v1
    models = (await import(`kubernetes-models/${o.apiVersion}`)) as Record<string, unknown>;
  } catch {
    return [`${where}: unknown apiVersion ${o.apiVersion}`];
  }
  const Model = models[o.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (!Model) return [`${where}: unknown kind ${o.kind} in ${o.apiVersion}`];
  try {
    new Model(o).validate();
  } catch (err) {
    const details = (err as { errors?: Array<{ instancePath: string; message?: string }> }).errors;
    if (details) {
      for (const e of details) problems.push(`${where}: ${e.instancePath || '/'} ${e.message}`);
    } else problems.push(`${where}: ${(err as Error).message}`);
  }
  const version = o.apiVersion.split('/').at(-1)!;
  const className = `${version[0]!.toUpperCase()}${version.slice(1)}${o.kind}`;
  if (!modelClass(className)) problems.push(`${where}: no field list for ${className}`);
  else unknownFields(o, className, '', problems, where);
  return problems;
}

interface Attribute {
  baseName: string;
  type: string;
}
type ModelClass = { getAttributeTypeMap(): Attribute[] };

function modelClass(name: string): ModelClass | undefined {
  const candidate = (k8s as unknown as Record<string, unknown>)[name];
  return typeof candidate === 'function' && 'getAttributeTypeMap' in candidate
    ? (candidate as unknown as ModelClass)
    : undefined;
}

function unknownFields(
  value: unknown,
  type: string,
  path: string,
  problems: string[],
  where: string,
): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value))
      value.forEach((v, i) => unknownFields(v, array[1]!, `${path}/${i}`, problems, where));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    for (const [k, v] of Object.entries(value as object)) {
      unknownFields(v, map[1]!, `${path}/${k}`, problems, where);
    }
    return;
  }
  const cls = modelClass(type);
  if (!cls || typeof value !== 'object' || Array.isArray(value)) return; // a scalar type
  const attributes = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, child] of Object.entries(value)) {
    const childType = attributes.get(key);
    if (childType === undefined)
      problems.push(`${where}: ${path}/${key} is not a field of ${type}`);
    else unknownFields(child, childType, `${path}/${key}`, problems, where);
  }
}
