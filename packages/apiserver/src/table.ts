/**
 * Server-side printing: `kubectl get` asks for `as=Table;g=meta.k8s.io;v=v1` and prints whatever
 * columns the server chooses. CRs use their additionalPrinterColumns, built-ins a short fixed set.
 */
import type { Json, JsonObject, KubeObject } from './types.js';
import { isJsonObject } from './types.js';

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  priority: number;
  format?: string;
  description?: string;
}

/** Evaluates the simple JSONPath subset printer columns use: `.a.b`, `[0]`, `[?(@.k=="v")]`. */
export function evalJsonPath(obj: Json | KubeObject, path: string): Json[] {
  let current: Json[] = [obj as Json];
  const re = /\.([A-Za-z0-9_$-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*["']([^"']*)["']\)\]|\[\*\]/g;
  let m: RegExpExecArray | null = re.exec(path);
  while (m !== null) {
    const next: Json[] = [];
    for (const c of current) {
      if (m[1] !== undefined) {
        if (isJsonObject(c) && c[m[1]] !== undefined) next.push(c[m[1]] as Json);
      } else if (m[2] !== undefined) {
        const item = Array.isArray(c) ? c[Number(m[2])] : undefined;
        if (item !== undefined) next.push(item);
      } else if (m[3] !== undefined) {
        const key = m[3];
        const want = m[4];
        if (Array.isArray(c)) {
          for (const item of c) {
            const got = evalJsonPath(item, `.${key}`)[0];
            if (got !== undefined && String(got) === want) next.push(item);
          }
        }
      } else if (Array.isArray(c)) {
        next.push(...c);
      }
    }
    current = next;
    m = re.exec(path);
  }
  return current;
}

/** kubectl's age format (k8s.io/apimachinery duration.HumanDuration). */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

function cell(col: PrinterColumn, obj: KubeObject, now: number, missing: Json): Json {
  const values = evalJsonPath(obj, col.jsonPath);
  if (values.length === 0) return missing;
  const v = values[0] as Json;
  if (col.type === 'date' && typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? v : humanDuration(now - t);
  }
  if (values.length > 1) return values.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',');
  if (col.type === 'string' && typeof v === 'object') return JSON.stringify(v);
  return v;
}

export type IncludeObject = 'None' | 'Object' | 'PartialObjectMetadata';

export function toTable(
  columns: PrinterColumn[],
  objects: KubeObject[],
  listMeta: JsonObject,
  include: IncludeObject,
  /** What a missing value shows: built-in printers say "<none>", CR tables leave the cell null. */
  missing: Json,
  noHeaders = false,
): JsonObject {
  const now = Date.now();
  const rows: Json[] = objects.map((o) => {
    const row: JsonObject = { cells: columns.map((c) => cell(c, o, now, missing)) };
    if (include === 'Object') row.object = o as unknown as JsonObject;
    else if (include === 'PartialObjectMetadata') {
      row.object = {
        kind: 'PartialObjectMetadata',
        apiVersion: 'meta.k8s.io/v1',
        metadata: o.metadata as JsonObject,
      };
    }
    return row;
  });
  const table: JsonObject = {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: noHeaders
      ? []
      : columns.map((c) => ({
          name: c.name,
          type: c.type === 'date' ? 'string' : c.type,
          format: c.format ?? '',
          description: c.description ?? c.name,
          priority: c.priority,
        })),
    rows,
  };
  return table;
}
