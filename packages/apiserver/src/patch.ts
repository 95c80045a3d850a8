/** PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch. */
import { ApiError, StatusReason } from './errors.js';
import type { Json, JsonObject } from './types.js';
import { clone, isJsonObject } from './types.js';

export function mergePatch(target: Json, patch: Json): Json {
  if (!isJsonObject(patch)) return clone(patch);
  const out: JsonObject = isJsonObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

function patchError(message: string): ApiError {
  // kube-apiserver answers a JSON patch that cannot be applied with 422 Invalid / 500; 422 is the common case.
  return new ApiError(422, StatusReason.Invalid, message);
}

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw patchError(`invalid JSON pointer "${p}"`);
  return p.slice(1).split('/').map(unescapePointer);
}

function getAt(doc: Json, path: string[]): Json | undefined {
  let cur: Json | undefined = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isJsonObject(cur)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b) && typeof a === typeof b;
}

export function jsonPatch(doc: Json, ops: Json): Json {
  if (!Array.isArray(ops))
    throw new ApiError(400, StatusReason.BadRequest, 'json patch must be an array of operations');
  let root: Json = clone(doc);
  for (const op of ops) {
    if (!isJsonObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw new ApiError(400, StatusReason.BadRequest, 'invalid JSON patch operation');
    }
    const path = parsePointer(op.path);
    const apply = (p: string[], fn: (parent: Json, last: string) => void) => {
      if (p.length === 0) throw patchError('cannot operate on the document root');
      const parent = getAt(root, p.slice(0, -1));
      if (parent === undefined || parent === null || typeof parent !== 'object') {
        throw patchError(`doc is missing path: "${op.path}": missing value`);
      }
      fn(parent, p[p.length - 1]!);
    };
    const add = (p: string[], value: Json) => {
      if (p.length === 0) {
        root = value;
        return;
      }
      apply(p, (parent, last) => {
        if (Array.isArray(parent)) {
          const i = last === '-' ? parent.length : Number(last);
          if (!Number.isInteger(i) || i < 0 || i > parent.length)
            throw patchError(`add operation index out of bounds: ${i}`);
          parent.splice(i, 0, value);
        } else (parent as JsonObject)[last] = value;
      });
    };
    const remove = (p: string[]): Json => {
      let removed: Json = null;
      apply(p, (parent, last) => {
        if (Array.isArray(parent)) {
          const i = Number(last);
          if (!(i >= 0 && i < parent.length))
            throw patchError(`remove operation does not apply: doc is missing path: "${op.path}"`);
          removed = parent.splice(i, 1)[0] as Json;
        } else {
          const o = parent as JsonObject;
          if (!(last in o))
            throw patchError(`remove operation does not apply: doc is missing path: "${op.path}": missing value`);
          removed = o[last] as Json;
          delete o[last];
        }
      });
      return removed;
    };
    switch (op.op) {
      case 'add':
        add(path, clone(op.value ?? null));
        break;
      case 'remove':
        remove(path);
        break;
      case 'replace':
        if (getAt(root, path) === undefined)
          throw patchError(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
        if (path.length === 0) root = clone(op.value ?? null);
        else {
          remove(path);
          add(path, clone(op.value ?? null));
        }
        break;
      case 'move':
      case 'copy': {
        if (typeof op.from !== 'string') throw new ApiError(400, StatusReason.BadRequest, `${op.op} needs "from"`);
        const from = parsePointer(op.from);
        const v = getAt(root, from);
        if (v === undefined)
          throw patchError(`${op.op} operation does not apply: doc is missing from path: ${op.from}`);
        if (op.op === 'move') remove(from);
        add(path, clone(v));
        break;
      }
      case 'test':
        if (!deepEqual(getAt(root, path), op.value)) throw patchError(`testing value ${op.path} failed: test failed`);
        break;
      default:
        throw new ApiError(400, StatusReason.BadRequest, `Unexpected kind: ${op.op}`);
    }
  }
  return root;
}

/**
 * Merge keys of the core-type lists Tortie and kubectl touch (from the `patchMergeKey` tags of
 * k8s.io/api). A list not named here is replaced whole, as an atomic list is.
 */
function mergeKeyFor(path: string[], field: string): string | 'primitive' | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
    case 'hostAliases':
      return field === 'hostAliases' ? 'ip' : 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'ports':
      return path.some((p) => p === 'containers' || p === 'initContainers') ? 'containerPort' : 'port';
    case 'conditions':
    case 'addresses':
      return 'type';
    case 'ownerReferences':
      return 'uid';
    case 'finalizers':
      return 'primitive';
    default:
      return undefined;
  }
}

/** Strategic merge patch as kubectl sends it for built-in types (`$patch`, `$setElementOrder`, `$deleteFromPrimitiveList`). */
export function strategicMergePatch(target: Json, patch: Json, path: string[] = []): Json {
  if (!isJsonObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return null;
  const out: JsonObject = isJsonObject(target) ? clone(target) : {};
  const retainKeys = Array.isArray(patch.$retainKeys) ? patch.$retainKeys.map(String) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$retainKeys' || k === '$patch') continue;
    if (k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) {
        const drop = new Set(v.map((x) => JSON.stringify(x)));
        out[field] = cur.filter((x) => !drop.has(JSON.stringify(x)));
      }
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (Array.isArray(v)) {
      const key = mergeKeyFor(path, k);
      if (key === 'primitive' && Array.isArray(cur)) {
        const seen = new Set(cur.map((x) => JSON.stringify(x)));
        out[k] = [...cur, ...v.filter((x) => !seen.has(JSON.stringify(x)))];
      } else if (key && key !== 'primitive' && Array.isArray(cur)) {
        out[k] = mergeList(cur, v, key, [...path, k]);
      } else {
        out[k] = v.filter((x) => !(isJsonObject(x) && x.$patch === 'delete')).map((x) => clone(x));
      }
      continue;
    }
    out[k] = isJsonObject(v) ? strategicMergePatch(cur ?? null, v, [...path, k]) : clone(v);
  }
  if (retainKeys) {
    for (const k of Object.keys(out)) if (!retainKeys.includes(k)) delete out[k];
  }
  return out;
}

function mergeList(cur: Json[], patch: Json[], key: string, path: string[]): Json[] {
  if (patch.some((x) => isJsonObject(x) && x.$patch === 'replace')) {
    return patch.filter((x) => !(isJsonObject(x) && x.$patch === 'replace')).map((x) => clone(x));
  }
  const out = cur.map((x) => clone(x));
  for (const item of patch) {
    if (!isJsonObject(item)) continue;
    const id = JSON.stringify(item[key]);
    const i = out.findIndex((x) => isJsonObject(x) && JSON.stringify(x[key]) === id);
    if (item.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = strategicMergePatch(out[i] ?? null, item, path);
    else out.push(strategicMergePatch(null, item, path));
  }
  return out;
}
