/** Label and field selectors, in the string syntax of the `labelSelector` / `fieldSelector` parameters. */
import { badRequest } from './errors.js';
import { evalJsonPath } from './table.js';
import type { KubeObject } from './types.js';

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!' }
  | { key: string; op: '=' | '!='; values: [string] };

/** Splits at commas outside parentheses (`a in (x,y),b`). */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.map((x) => x.trim()).filter((x) => x.length > 0);
}

export function parseLabelSelector(s: string): Requirement[] {
  return splitTop(s).map((term): Requirement => {
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) {
      const values = m[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0);
      return { key: m[1]!, op: m[2] as 'in' | 'notin', values };
    }
    m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term);
    if (m) return { key: m[1]!, op: m[2] === '!=' ? '!=' : '=', values: [m[3]!] };
    m = /^!\s*([\w./-]+)$/.exec(term);
    if (m) return { key: m[1]!, op: '!' };
    m = /^([\w./-]+)$/.exec(term);
    if (m) return { key: m[1]!, op: 'exists' };
    throw badRequest(`unable to parse requirement: invalid label selector term "${term}"`);
  });
}

export function matchRequirements(reqs: Requirement[], get: (key: string) => string | undefined): boolean {
  return reqs.every((r) => {
    const v = get(r.key);
    switch (r.op) {
      case 'exists':
        return v !== undefined;
      case '!':
        return v === undefined;
      case '=':
        return v === r.values[0];
      case '!=':
        return v !== r.values[0];
      case 'in':
        return v !== undefined && r.values.includes(v);
      case 'notin':
        return v === undefined || !r.values.includes(v);
    }
    return false;
  });
}

export function parseFieldSelector(s: string): Requirement[] {
  return splitTop(s).map((term): Requirement => {
    const m = /^([\w./-]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid field selector: "${term}"`);
    return { key: m[1]!, op: m[2] === '!=' ? '!=' : '=', values: [m[3]!.trim()] };
  });
}

/** The value a field selector sees: any scalar at the dotted path (kube-apiserver allows fewer). */
function fieldValue(obj: KubeObject, key: string): string {
  const v = evalJsonPath(obj, `.${key}`)[0];
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export interface Selector {
  matches(obj: KubeObject): boolean;
}

export function makeSelector(labelSelector: string | null, fieldSelector: string | null): Selector {
  const labels = labelSelector ? parseLabelSelector(labelSelector) : [];
  const fields = fieldSelector ? parseFieldSelector(fieldSelector) : [];
  return {
    matches(obj) {
      const l = obj.metadata.labels ?? {};
      return (
        matchRequirements(labels, (k) => l[k]) &&
        // A missing field compares as "" (spec.nodeName= selects unscheduled pods, as in Kubernetes).
        matchRequirements(fields, (k) => fieldValue(obj, k))
      );
    },
  };
}
