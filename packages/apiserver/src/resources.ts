/**
 * The served resource types: the built-in core types Tortie uses plus whatever CustomResourceDefinitions
 * say. One `ResourceType` per served group/version/resource; storage is keyed by group/resource so
 * every served version of a CRD sees the same objects (conversion strategy None, as Tortie's CRDs).
 */
import type { PrinterColumn } from './table.js';
import type { JsonObject, KubeObject } from './types.js';
import { isJsonObject } from './types.js';

export interface ResourceType {
  group: string;
  version: string;
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Whether `/status` is a subresource: then the main resource ignores status changes and vice versa. */
  statusSubresource: boolean;
  /** The CRD version's openAPIV3Schema, when it is a custom resource. */
  schema: JsonObject | undefined;
  printerColumns: PrinterColumn[];
  /** Name of the CRD that serves this type; undefined for built-ins. */
  crd: string | undefined;
  /** What create does to status (kube-apiserver's PrepareForCreate): keep it, or replace it. */
  statusOnCreate: 'keep' | 'drop' | JsonObject;
  /** Whether strategic merge patch is accepted (built-ins only, as in kube-apiserver). */
  strategicMerge: boolean;
}

export function storageKey(t: { group: string; resource: string }): string {
  return `${t.group}/${t.resource}`;
}

export function apiVersionOf(t: { group: string; version: string }): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

const nameCol: PrinterColumn = {
  name: 'Name',
  type: 'string',
  jsonPath: '.metadata.name',
  format: 'name',
  priority: 0,
};
const ageCol: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', priority: 0 };

function builtin(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[],
  extra: Partial<Pick<ResourceType, 'statusSubresource' | 'statusOnCreate' | 'printerColumns'>> = {},
): ResourceType {
  return {
    group,
    version,
    resource,
    kind,
    listKind: `${kind}List`,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames,
    categories: [],
    statusSubresource: extra.statusSubresource ?? false,
    schema: undefined,
    printerColumns: extra.printerColumns ?? [nameCol, ageCol],
    crd: undefined,
    statusOnCreate: extra.statusOnCreate ?? 'keep',
    strategicMerge: true,
  };
}

export function builtinTypes(): ResourceType[] {
  return [
    builtin('', 'v1', 'namespaces', 'Namespace', false, ['ns'], {
      statusSubresource: true,
      statusOnCreate: { phase: 'Active' },
      printerColumns: [nameCol, { name: 'Status', type: 'string', jsonPath: '.status.phase', priority: 0 }, ageCol],
    }),
    // Nodes may carry status (addresses) on create, as kube-apiserver allows; the lab relies on it.
    builtin('', 'v1', 'nodes', 'Node', false, ['no'], {
      statusSubresource: true,
      printerColumns: [
        nameCol,
        { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].type', priority: 0 },
        ageCol,
        {
          name: 'Internal-IP',
          type: 'string',
          jsonPath: '.status.addresses[?(@.type=="InternalIP")].address',
          priority: 1,
        },
      ],
    }),
    builtin('', 'v1', 'pods', 'Pod', true, ['po'], {
      statusSubresource: true,
      statusOnCreate: { phase: 'Pending' },
      printerColumns: [
        nameCol,
        { name: 'Status', type: 'string', jsonPath: '.status.phase', priority: 0 },
        ageCol,
        { name: 'IP', type: 'string', jsonPath: '.status.podIP', priority: 1 },
        { name: 'Node', type: 'string', jsonPath: '.spec.nodeName', priority: 1 },
      ],
    }),
    builtin('', 'v1', 'secrets', 'Secret', true, [], {
      printerColumns: [nameCol, { name: 'Type', type: 'string', jsonPath: '.type', priority: 0 }, ageCol],
    }),
    builtin('', 'v1', 'configmaps', 'ConfigMap', true, ['cm']),
    builtin('', 'v1', 'services', 'Service', true, ['svc'], {
      statusSubresource: true,
      statusOnCreate: 'drop',
      printerColumns: [
        nameCol,
        { name: 'Type', type: 'string', jsonPath: '.spec.type', priority: 0 },
        { name: 'Cluster-IP', type: 'string', jsonPath: '.spec.clusterIP', priority: 0 },
        ageCol,
      ],
    }),
    builtin('', 'v1', 'endpoints', 'Endpoints', true, ['ep']),
    builtin('', 'v1', 'events', 'Event', true, ['ev']),
    builtin('', 'v1', 'serviceaccounts', 'ServiceAccount', true, ['sa']),
    builtin('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true, []),
    builtin('coordination.k8s.io', 'v1', 'leases', 'Lease', true, []),
    {
      ...builtin('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, [
        'crd',
        'crds',
      ]),
      statusSubresource: true,
      statusOnCreate: 'drop',
      printerColumns: [
        nameCol,
        { name: 'Created At', type: 'string', jsonPath: '.metadata.creationTimestamp', priority: 0 },
      ],
    },
  ];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The resource types a CRD serves, one per served version. Assumes the CRD already validated. */
export function typesFromCrd(crd: KubeObject): ResourceType[] {
  const spec = crd.spec;
  if (!isJsonObject(spec)) return [];
  const names = isJsonObject(spec.names) ? spec.names : {};
  const group = str(spec.group) ?? '';
  const kind = str(names.kind) ?? '';
  const plural = str(names.plural) ?? '';
  const out: ResourceType[] = [];
  for (const v of Array.isArray(spec.versions) ? spec.versions : []) {
    if (!isJsonObject(v) || v.served === false) continue;
    const schemaHolder = isJsonObject(v.schema) ? v.schema : {};
    const schema = isJsonObject(schemaHolder.openAPIV3Schema) ? schemaHolder.openAPIV3Schema : undefined;
    const subresources = isJsonObject(v.subresources) ? v.subresources : {};
    const cols: PrinterColumn[] = [nameCol];
    for (const c of Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns : []) {
      if (!isJsonObject(c)) continue;
      const col: PrinterColumn = {
        name: str(c.name) ?? '',
        type: str(c.type) ?? 'string',
        jsonPath: str(c.jsonPath) ?? '',
        priority: typeof c.priority === 'number' ? c.priority : 0,
      };
      const format = str(c.format);
      if (format) col.format = format;
      const description = str(c.description);
      if (description) col.description = description;
      cols.push(col);
    }
    // Like kube-apiserver: with no printer columns a CR table shows Name and Age.
    if (cols.length === 1) cols.push(ageCol);
    out.push({
      group,
      version: str(v.name) ?? '',
      resource: plural,
      kind,
      listKind: str(names.listKind) ?? `${kind}List`,
      singular: str(names.singular) ?? kind.toLowerCase(),
      namespaced: spec.scope === 'Namespaced',
      shortNames: strings(names.shortNames),
      categories: strings(names.categories),
      statusSubresource: isJsonObject(subresources.status),
      schema,
      printerColumns: cols,
      crd: crd.metadata.name,
      statusOnCreate: isJsonObject(subresources.status) ? 'drop' : 'keep',
      strategicMerge: false,
    });
  }
  return out;
}
