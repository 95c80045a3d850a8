/**
 * A structural-schema validator for CRD objects: what kube-apiserver does with a CRD's
 * openAPIV3Schema on every write (defaulting, pruning of unknown fields, then validation), with the
 * same field paths and message wording so callers see e.g. `spec.cidr: Required value`.
 */
import type { StatusCause } from './errors.js';
import type { Json, JsonObject } from './types.js';
import { isJsonObject } from './types.js';

type Schema = JsonObject;

function quote(v: Json | undefined): string {
  return typeof v === 'string' ? `"${v}"` : JSON.stringify(v);
}

function typeName(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

const formats: Record<string, (s: string) => boolean> = {
  ipv4: (s) => /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s),
  ipv6: (s) => s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s),
  cidr: (s) => {
    const [ip, len, extra] = s.split('/');
    if (ip === undefined || len === undefined || extra !== undefined || !/^\d+$/.test(len)) return false;
    const max = ip.includes(':') ? 128 : 32;
    return Number(len) <= max && (formats.ipv4!(ip) || formats.ipv6!(ip));
  },
  'date-time': (s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s),
  uuid: (s) => /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s),
  hostname: (s) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(s) && s.length <= 253,
  byte: (s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0,
};
formats.ip = (s) => formats.ipv4!(s) || formats.ipv6!(s);

/** Applies `default`s and drops fields the schema does not know (unless x-kubernetes-preserve-unknown-fields). */
export function defaultAndPrune(schema: Schema, value: Json, isRoot = true): Json {
  if (isJsonObject(value)) {
    const props = isJsonObject(schema.properties) ? schema.properties : undefined;
    const additional = schema.additionalProperties;
    const preserve =
      schema['x-kubernetes-preserve-unknown-fields'] === true || schema['x-kubernetes-embedded-resource'] === true;
    if (props) {
      for (const [k, ps] of Object.entries(props)) {
        if (!isJsonObject(ps)) continue;
        if (value[k] === undefined && ps.default !== undefined) value[k] = structuredClone(ps.default);
      }
    }
    for (const k of Object.keys(value)) {
      if (isRoot && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
      const ps = props?.[k];
      if (isJsonObject(ps)) value[k] = defaultAndPrune(ps, value[k] ?? null, false);
      else if (isJsonObject(additional)) value[k] = defaultAndPrune(additional, value[k] ?? null, false);
      else if (!preserve && additional !== true) delete value[k];
    }
    return value;
  }
  if (Array.isArray(value) && isJsonObject(schema.items)) {
    const items = schema.items;
    return value.map((v) => defaultAndPrune(items, v, false));
  }
  return value;
}

/** Validates `value` against `schema`; returns one cause per violation, field paths as kube-apiserver prints them. */
export function validate(schema: Schema, value: Json, path = '', isRoot = true): StatusCause[] {
  const causes: StatusCause[] = [];
  const bad = (message: string, reason = 'FieldValueInvalid') => causes.push({ reason, message, field: path });
  const at = path || '<root>';

  if (value === null) {
    if (schema.nullable === true || isRoot) return causes;
    bad(
      `Invalid value: "null": ${at} in body must be of type ${String(schema.type ?? 'object')}: "null"`,
      'FieldValueTypeInvalid',
    );
    return causes;
  }
  const type = schema.type;
  const actual = typeName(value);
  if (schema['x-kubernetes-int-or-string'] === true) {
    if (actual !== 'integer' && actual !== 'string') {
      bad(
        `Invalid value: "${actual}": ${at} in body must be of type integer-or-string: "${actual}"`,
        'FieldValueTypeInvalid',
      );
      return causes;
    }
  } else if (typeof type === 'string') {
    const ok = type === actual || (type === 'number' && actual === 'integer');
    if (!ok) {
      bad(`Invalid value: "${actual}": ${at} in body must be of type ${type}: "${actual}"`, 'FieldValueTypeInvalid');
      return causes;
    }
  }

  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${quote(value)}: supported values: ${schema.enum.map(quote).join(', ')}`,
      field: path,
    });
  }

  if (typeof value === 'string') {
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) {
      causes.push({
        reason: 'FieldValueTooLong',
        message: `Too long: may not be more than ${schema.maxLength} bytes`,
        field: path,
      });
    }
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) {
      bad(`Invalid value: ${quote(value)}: ${at} in body should be at least ${schema.minLength} chars long`);
    }
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
      bad(`Invalid value: ${quote(value)}: ${at} in body should match '${schema.pattern}'`);
    }
    const check = typeof schema.format === 'string' ? formats[schema.format] : undefined;
    if (check && !check(value)) {
      bad(`Invalid value: ${quote(value)}: ${at} in body must be of type ${String(schema.format)}: ${quote(value)}`);
    }
  }

  if (typeof value === 'number') {
    const min = schema.minimum;
    const max = schema.maximum;
    if (typeof min === 'number') {
      if (schema.exclusiveMinimum === true ? value <= min : value < min) {
        bad(
          `Invalid value: ${value}: ${at} in body should be greater than ${schema.exclusiveMinimum === true ? '' : 'or equal to '}${min}`,
        );
      }
    }
    if (typeof max === 'number') {
      if (schema.exclusiveMaximum === true ? value >= max : value > max) {
        bad(
          `Invalid value: ${value}: ${at} in body should be less than ${schema.exclusiveMaximum === true ? '' : 'or equal to '}${max}`,
        );
      }
    }
    if (typeof schema.multipleOf === 'number' && value % schema.multipleOf !== 0) {
      bad(`Invalid value: ${value}: ${at} in body should be a multiple of ${schema.multipleOf}`);
    }
  }

  if (Array.isArray(value)) {
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
      causes.push({
        reason: 'FieldValueTooMany',
        message: `Too many: ${value.length}: must have at most ${schema.maxItems} items`,
        field: path,
      });
    }
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
      bad(`Invalid value: ${value.length}: ${at} in body should have at least ${schema.minItems} items`);
    }
    if (isJsonObject(schema.items)) {
      const items = schema.items;
      value.forEach((v, i) => {
        causes.push(...validate(items, v, `${path}[${i}]`, false));
      });
    }
    if (schema['x-kubernetes-list-type'] === 'set' || schema.uniqueItems === true) {
      const seen = new Set<string>();
      value.forEach((v, i) => {
        const k = JSON.stringify(v);
        if (seen.has(k))
          causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${k}`, field: `${path}[${i}]` });
        seen.add(k);
      });
    }
  }

  if (isJsonObject(value)) {
    const props = isJsonObject(schema.properties) ? schema.properties : {};
    for (const r of Array.isArray(schema.required) ? schema.required : []) {
      if (typeof r === 'string' && value[r] === undefined) {
        causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: join(path, r) });
      }
    }
    for (const [k, v] of Object.entries(value)) {
      if (isRoot && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
      const ps = props[k];
      if (isJsonObject(ps)) causes.push(...validate(ps, v, join(path, k), false));
      else if (isJsonObject(schema.additionalProperties)) {
        causes.push(...validate(schema.additionalProperties, v, join(path, k), false));
      }
    }
    const n = Object.keys(value).length;
    if (typeof schema.maxProperties === 'number' && n > schema.maxProperties) {
      causes.push({
        reason: 'FieldValueTooMany',
        message: `Too many: ${n}: must have at most ${schema.maxProperties} items`,
        field: path,
      });
    }
    if (typeof schema.minProperties === 'number' && n < schema.minProperties) {
      bad(`Invalid value: ${n}: ${at} in body should have at least ${schema.minProperties} properties`);
    }
  }

  for (const sub of Array.isArray(schema.allOf) ? schema.allOf : []) {
    if (isJsonObject(sub)) causes.push(...validate(sub, value, path, isRoot));
  }
  if (Array.isArray(schema.anyOf)) {
    const anyOk = schema.anyOf.some((s) => isJsonObject(s) && validate(s, value, path, isRoot).length === 0);
    if (!anyOk) bad(`Invalid value: ${quote(value)}: ${at} in body must match at least one schema in anyOf`);
  }
  if (Array.isArray(schema.oneOf)) {
    const n = schema.oneOf.filter((s) => isJsonObject(s) && validate(s, value, path, isRoot).length === 0).length;
    if (n !== 1) bad(`Invalid value: ${quote(value)}: ${at} in body must match exactly one schema in oneOf`);
  }
  if (isJsonObject(schema.not) && validate(schema.not, value, path, isRoot).length === 0) {
    bad(`Invalid value: ${quote(value)}: ${at} in body must not match the schema in not`);
  }
  return causes;
}

/** Fields the schema would prune, as `spec.foo` paths: what fieldValidation=Strict rejects. */
export function unknownFields(schema: Schema, value: Json, path = '', isRoot = true): string[] {
  const out: string[] = [];
  if (isJsonObject(value)) {
    const props = isJsonObject(schema.properties) ? schema.properties : undefined;
    const additional = schema.additionalProperties;
    const preserve =
      schema['x-kubernetes-preserve-unknown-fields'] === true || schema['x-kubernetes-embedded-resource'] === true;
    for (const [k, v] of Object.entries(value)) {
      if (isRoot && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
      const ps = props?.[k];
      const p = path ? `${path}.${k}` : k;
      if (isJsonObject(ps)) out.push(...unknownFields(ps, v, p, false));
      else if (isJsonObject(additional)) out.push(...unknownFields(additional, v, p, false));
      else if (!preserve && additional !== true) out.push(p);
    }
  } else if (Array.isArray(value) && isJsonObject(schema.items)) {
    const items = schema.items;
    value.forEach((v, i) => {
      out.push(...unknownFields(items, v, `${path}[${i}]`, false));
    });
  }
  return out;
}
