/**
 * A minimal OpenAPI v3 surface. kubectl (apply/create with the default --validate=strict) asks
 * /openapi/v3 whether a type's PATCH takes the `fieldValidation` parameter; when it does, kubectl
 * skips client-side validation and lets the server validate (fieldValidation=Strict), which is
 * what this server does with the CRD schemas. Component schemas are deliberately not served:
 * `kubectl explain` is not supported.
 */
import { createHash } from 'node:crypto';
import type { ResourceType } from './resources.js';
import type { JsonObject } from './types.js';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function openApiGroupVersion(types: ResourceType[], group: string, version: string): JsonObject | undefined {
  const mine = types.filter((t) => t.group === group && t.version === version);
  if (mine.length === 0) return undefined;
  const paths: JsonObject = {};
  for (const t of mine) {
    const base = `/${gvPath(group, version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}/{name}`;
    const content: JsonObject = {
      'application/json-patch+json': { schema: {} },
      'application/merge-patch+json': { schema: {} },
    };
    paths[base] = {
      patch: {
        description: `partially update the specified ${t.kind}`,
        operationId: `patch${t.kind}`,
        parameters: [
          { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
        ],
        requestBody: { content, required: true },
        responses: { '200': { description: 'OK' } },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group, version, kind: t.kind },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-tortie' },
    paths,
    components: { schemas: {} },
  };
}

export function openApiRoot(types: ResourceType[]): JsonObject {
  const paths: JsonObject = {};
  const seen = new Set<string>();
  for (const t of types) {
    const p = gvPath(t.group, t.version);
    if (seen.has(p)) continue;
    seen.add(p);
    const doc = openApiGroupVersion(types, t.group, t.version);
    const hash = createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 32).toUpperCase();
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  }
  return { paths };
}

export function apiVersionFromPath(segs: string[]): { group: string; version: string } | undefined {
  if (segs[0] === 'api' && segs.length === 2) return { group: '', version: segs[1]! };
  if (segs[0] === 'apis' && segs.length === 3) return { group: segs[1]!, version: segs[2]! };
  return undefined;
}
