// Compiles a PolicyConfig into closures: validated once, then evaluated per attribute set (or per
// prefix when a term matches on prefixes or family).

import { type AttrChanges, asPathLength, neighborAs, originAs, WellKnownCommunity, withAttrs } from '../rib/attrs.js';
import {
  keyLength,
  type PrefixKey,
  parseIpv4,
  parseIpv6,
  parsePrefixKey,
  prefixContains,
  v4Key,
  v6Key,
} from '../rib/prefix.js';
import type { AsPathSegment, LargeCommunity, PathAttributes } from '../wire/types.js';
import type {
  AsPathMatch,
  CommunityChange,
  CommunityMatch,
  LargeCommunityMatch,
  MatchConfig,
  PolicyConfig,
  SetConfig,
  TermConfig,
} from './config.js';
import { PolicyConfigError } from './errors.js';

/** What a policy looks at. */
export interface PolicyRoute {
  readonly key: PrefixKey;
  readonly attrs: PathAttributes;
}

export interface PolicyContext {
  /** The address "nextHop: self" stands for (the local end of the session, per family). */
  readonly selfNextHop?: string;
}

export type PolicyResult =
  | { readonly accepted: true; readonly attrs: PathAttributes }
  | { readonly accepted: false; readonly term: string | undefined };

export interface Policy {
  /** True when some term depends on the prefix (then results cannot be shared per attribute set). */
  readonly prefixDependent: boolean;
  /** Runs the terms; `attrs` in an accepted result is the input object itself when nothing changed. */
  evaluate(route: PolicyRoute, context?: PolicyContext): PolicyResult;
}

export interface CompileOptions {
  /** Field path prefix for error messages (e.g. "neighbors[0].import"). */
  readonly field?: string;
  /** The local AS, used by `asPathPrepend` without an `asn`. */
  readonly localAs?: number;
}

type Matcher = (route: PolicyRoute) => boolean;
type Changer = (attrs: PathAttributes, ctx: PolicyContext | undefined) => PathAttributes;

const COMMUNITY_NAMES: Record<string, number> = {
  'no-export': WellKnownCommunity.NO_EXPORT,
  'no-advertise': WellKnownCommunity.NO_ADVERTISE,
  'no-export-subconfed': WellKnownCommunity.NO_EXPORT_SUBCONFED,
  blackhole: 0xffff029a,
};

const TERM_KEYS = ['name', 'match', 'action', 'set'];
const MATCH_KEYS = ['family', 'prefixList', 'communities', 'largeCommunities', 'asPath', 'nextHop'];
const SET_KEYS = ['localPref', 'med', 'communities', 'largeCommunities', 'asPathPrepend', 'nextHop'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(v: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k))
      throw new PolicyConfigError(`${field}.${k}`, `unknown field; expected one of ${allowed.join(', ')}`);
  }
}

function checkArray(v: unknown, field: string): readonly unknown[] {
  if (!Array.isArray(v)) throw new PolicyConfigError(field, 'must be a list');
  return v;
}

function checkUint(v: unknown, field: string, max = 0xffffffff): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
    throw new PolicyConfigError(field, `must be an integer from 0 to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

export function parseCommunity(v: unknown, field: string): number {
  if (typeof v === 'number') return checkUint(v, field);
  if (typeof v !== 'string') throw new PolicyConfigError(field, 'must be "asn:value", a number or a well-known name');
  const named = COMMUNITY_NAMES[v.toLowerCase()];
  if (named !== undefined) return named;
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m) throw new PolicyConfigError(field, `${JSON.stringify(v)} is not "asn:value" or a well-known community name`);
  const hi = Number(m[1]);
  const lo = Number(m[2]);
  if (hi > 0xffff || lo > 0xffff) throw new PolicyConfigError(field, `${v}: both halves must be at most 65535`);
  return ((hi << 16) | lo) >>> 0;
}

export function parseLargeCommunity(v: unknown, field: string): LargeCommunity {
  const m = typeof v === 'string' ? /^(\d+):(\d+):(\d+)$/.exec(v) : null;
  if (!m) throw new PolicyConfigError(field, `${JSON.stringify(v)} is not "global:local1:local2"`);
  const [g, l1, l2] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (g > 0xffffffff || l1 > 0xffffffff || l2 > 0xffffffff)
    throw new PolicyConfigError(field, `${v}: each part must be at most 4294967295`);
  return { global: g, local1: l1, local2: l2 };
}

function lcKey(l: LargeCommunity): string {
  return `${l.global}:${l.local1}:${l.local2}`;
}

function parseAddress(v: unknown, field: string): string {
  if (typeof v !== 'string' || (parseIpv4(v) === null && parseIpv6(v) === null))
    throw new PolicyConfigError(field, `${JSON.stringify(v)} is not an IPv4 or IPv6 address`);
  return v;
}

function parsePrefix(v: unknown, field: string): PrefixKey {
  if (typeof v !== 'string') throw new PolicyConfigError(field, 'must be a prefix like 10.0.0.0/8');
  try {
    return parsePrefixKey(v);
  } catch (e) {
    throw new PolicyConfigError(field, (e as Error).message);
  }
}

/** The AS path as text: "65001 65002 {65003,65004}", confederation sequences "(..)", sets "[..]". */
export function asPathText(path: readonly AsPathSegment[] | undefined): string {
  if (!path) return '';
  const parts: string[] = [];
  for (const seg of path) {
    if (seg.type === 2) parts.push(seg.asns.join(' '));
    else if (seg.type === 1) parts.push(`{${seg.asns.join(',')}}`);
    else if (seg.type === 3) parts.push(`(${seg.asns.join(' ')})`);
    else parts.push(`[${seg.asns.join(' ')}]`);
  }
  return parts.join(' ');
}

function compilePrefixList(v: unknown, field: string): Matcher {
  const entries = checkArray(v, field).map((e, i) => {
    const f = `${field}[${i}]`;
    if (!isObject(e)) throw new PolicyConfigError(f, 'must be { prefix, ge?, le? }');
    checkKeys(e, ['prefix', 'ge', 'le'], f);
    const key = parsePrefix(e.prefix, `${f}.prefix`);
    const len = keyLength(key);
    const max = typeof key === 'number' ? 32 : 128;
    const ge = e.ge === undefined ? undefined : checkUint(e.ge, `${f}.ge`, max);
    const le = e.le === undefined ? undefined : checkUint(e.le, `${f}.le`, max);
    if (ge !== undefined && ge < len)
      throw new PolicyConfigError(`${f}.ge`, `${ge} is shorter than the prefix length ${len}`);
    if (le !== undefined && le < len)
      throw new PolicyConfigError(`${f}.le`, `${le} is shorter than the prefix length ${len}`);
    if (ge !== undefined && le !== undefined && ge > le)
      throw new PolicyConfigError(`${f}.le`, `${le} is below ge ${ge}`);
    const lo = ge ?? len;
    const hi = le ?? (ge !== undefined ? max : len);
    return { key, lo, hi };
  });
  return (r) => {
    const k = r.key;
    const l = keyLength(k);
    for (const e of entries) if (l >= e.lo && l <= e.hi && prefixContains(e.key, k)) return true;
    return false;
  };
}

/**
 * `{ any?, all? }` over a route's list of communities (standard or large): each listed value is
 * parsed and turned into a comparable key once, here; `have` gives the route's keys.
 */
function compileAnyAllMatch<K>(
  v: unknown,
  field: string,
  parse: (x: unknown, field: string) => K,
  have: (r: PolicyRoute) => readonly K[],
): Matcher {
  if (!isObject(v)) throw new PolicyConfigError(field, 'must be { any?: [...], all?: [...] }');
  checkKeys(v, ['any', 'all'], field);
  const c = v as CommunityMatch | LargeCommunityMatch;
  if (c.any === undefined && c.all === undefined) throw new PolicyConfigError(field, 'needs any or all');
  const any =
    c.any === undefined ? undefined : checkArray(c.any, `${field}.any`).map((x, i) => parse(x, `${field}.any[${i}]`));
  const all =
    c.all === undefined ? undefined : checkArray(c.all, `${field}.all`).map((x, i) => parse(x, `${field}.all[${i}]`));
  return (r) => {
    const h = have(r);
    if (any && !any.some((x) => h.includes(x))) return false;
    if (all && !all.every((x) => h.includes(x))) return false;
    return true;
  };
}

function compileCommunityMatch(v: unknown, field: string): Matcher {
  return compileAnyAllMatch(v, field, parseCommunity, (r) => r.attrs.communities ?? []);
}

function compileLargeMatch(v: unknown, field: string): Matcher {
  return compileAnyAllMatch(
    v,
    field,
    (x, f) => lcKey(parseLargeCommunity(x, f)),
    (r) => (r.attrs.largeCommunities ?? []).map(lcKey),
  );
}

function compileAsPathMatch(v: unknown, field: string): Matcher {
  if (!isObject(v)) throw new PolicyConfigError(field, 'must be an object');
  checkKeys(v, ['contains', 'originAs', 'neighborAs', 'length', 'regex'], field);
  const m = v as AsPathMatch;
  const tests: Matcher[] = [];
  const asns = (x: unknown, f: string) => checkArray(x, f).map((a, i) => checkUint(a, `${f}[${i}]`));
  if (m.contains !== undefined) {
    const want = asns(m.contains, `${field}.contains`);
    tests.push((r) => (r.attrs.asPath ?? []).some((s) => s.asns.some((a) => want.includes(a))));
  }
  if (m.originAs !== undefined) {
    const want = asns(m.originAs, `${field}.originAs`);
    tests.push((r) => want.includes(originAs(r.attrs.asPath)));
  }
  if (m.neighborAs !== undefined) {
    const want = asns(m.neighborAs, `${field}.neighborAs`);
    tests.push((r) => want.includes(neighborAs(r.attrs.asPath)));
  }
  if (m.length !== undefined) {
    const f = `${field}.length`;
    if (!isObject(m.length)) throw new PolicyConfigError(f, 'must be { min?, max? }');
    checkKeys(m.length, ['min', 'max'], f);
    const min = m.length.min === undefined ? 0 : checkUint(m.length.min, `${f}.min`);
    const max = m.length.max === undefined ? Number.POSITIVE_INFINITY : checkUint(m.length.max, `${f}.max`);
    if (min > max) throw new PolicyConfigError(`${f}.max`, `${max} is below min ${min}`);
    tests.push((r) => {
      const l = asPathLength(r.attrs.asPath);
      return l >= min && l <= max;
    });
  }
  if (m.regex !== undefined) {
    const f = `${field}.regex`;
    if (typeof m.regex !== 'string') throw new PolicyConfigError(f, 'must be a string');
    let re: RegExp;
    try {
      re = new RegExp(m.regex.replace(/_/g, '(?:^|$|[ {}(),\\[\\]])'));
    } catch (e) {
      throw new PolicyConfigError(f, `invalid regular expression: ${(e as Error).message}`);
    }
    tests.push((r) => re.test(asPathText(r.attrs.asPath)));
  }
  return (r) => tests.every((t) => t(r));
}

function nextHopKey(nh: string): PrefixKey | null {
  const v4 = parseIpv4(nh);
  if (v4 !== null) return v4Key(v4, 32);
  const v6 = parseIpv6(nh);
  return v6 ? v6Key(v6, 128) : null;
}

function compileMatch(v: unknown, field: string): { match: Matcher; prefixDependent: boolean } {
  if (!isObject(v)) throw new PolicyConfigError(field, 'must be an object');
  checkKeys(v, MATCH_KEYS, field);
  const m = v as MatchConfig;
  const tests: Matcher[] = [];
  let prefixDependent = false;
  if (m.family !== undefined) {
    if (m.family !== 'ipv4-unicast' && m.family !== 'ipv6-unicast')
      throw new PolicyConfigError(`${field}.family`, 'must be ipv4-unicast or ipv6-unicast');
    const v4 = m.family === 'ipv4-unicast';
    tests.push((r) => (typeof r.key === 'number') === v4);
    prefixDependent = true;
  }
  if (m.prefixList !== undefined) {
    tests.push(compilePrefixList(m.prefixList, `${field}.prefixList`));
    prefixDependent = true;
  }
  if (m.communities !== undefined) tests.push(compileCommunityMatch(m.communities, `${field}.communities`));
  if (m.largeCommunities !== undefined) tests.push(compileLargeMatch(m.largeCommunities, `${field}.largeCommunities`));
  if (m.asPath !== undefined) tests.push(compileAsPathMatch(m.asPath, `${field}.asPath`));
  if (m.nextHop !== undefined) {
    const nets = checkArray(m.nextHop, `${field}.nextHop`).map((p, i) => parsePrefix(p, `${field}.nextHop[${i}]`));
    tests.push((r) => {
      const nh = r.attrs.nextHop;
      const k = nh === undefined ? null : nextHopKey(nh);
      return k !== null && nets.some((n) => prefixContains(n, k));
    });
  }
  return { match: (r) => tests.every((t) => t(r)), prefixDependent };
}

function compileListChange<T>(
  v: unknown,
  field: string,
  parse: (x: unknown, f: string) => T,
  key: (x: T) => string | number,
): (list: readonly T[] | undefined) => readonly T[] | undefined {
  if (!isObject(v)) throw new PolicyConfigError(field, 'must be { replace?, remove?, add? }');
  checkKeys(v, ['replace', 'remove', 'add'], field);
  const c = v as CommunityChange<unknown>;
  const list = (x: unknown, f: string): T[] | undefined =>
    x === undefined ? undefined : checkArray(x, f).map((e, i) => parse(e, `${f}[${i}]`));
  const replace = list(c.replace, `${field}.replace`);
  const remove = list(c.remove, `${field}.remove`)?.map(key);
  const add = list(c.add, `${field}.add`);
  return (cur) => {
    let out: T[] = [...(replace ?? cur ?? [])];
    if (remove) out = out.filter((x) => !remove.includes(key(x)));
    if (add) for (const a of add) if (!out.some((x) => key(x) === key(a))) out.push(a);
    return out.length === 0 ? undefined : out;
  };
}

function withField<K extends keyof PathAttributes>(
  a: PathAttributes,
  k: K,
  v: PathAttributes[K] | undefined,
): PathAttributes {
  return withAttrs(a, { [k]: v } as AttrChanges);
}

/** Prepends `asn` `count` times to the path (into the leading AS_SEQUENCE while it has room). */
export function prependAs(path: readonly AsPathSegment[] | undefined, asn: number, count: number): AsPathSegment[] {
  const first = path?.[0];
  if (count > 0 && path && first && first.type === 2 && first.asns.length + count <= 255) {
    // the common case, in exact-size arrays (exported paths are kept, one per attribute set)
    const asns: number[] = new Array(first.asns.length + count);
    for (let i = 0; i < count; i++) asns[i] = asn;
    for (let i = 0; i < first.asns.length; i++) asns[count + i] = first.asns[i]!;
    const segs: AsPathSegment[] = new Array(path.length);
    segs[0] = { type: 2, asns };
    for (let i = 1; i < path.length; i++) segs[i] = path[i]!;
    return segs;
  }
  const segs = path ? [...path] : [];
  if (count <= 0) return segs;
  const add = new Array<number>(count).fill(asn);
  for (let i = add.length; i > 0; i -= 255) segs.unshift({ type: 2, asns: add.slice(Math.max(0, i - 255), i) });
  return segs;
}

function compileSet(v: unknown, field: string, localAs: number | undefined): Changer {
  if (!isObject(v)) throw new PolicyConfigError(field, 'must be an object');
  checkKeys(v, SET_KEYS, field);
  const s = v as SetConfig;
  const steps: Changer[] = [];
  if (s.localPref !== undefined) {
    const lp = checkUint(s.localPref, `${field}.localPref`);
    steps.push((a) => withField(a, 'localPref', lp));
  }
  if (s.med !== undefined) {
    const med = s.med === 'remove' ? undefined : checkUint(s.med, `${field}.med`);
    steps.push((a) => withField(a, 'med', med));
  }
  if (s.communities !== undefined) {
    const change = compileListChange(s.communities, `${field}.communities`, parseCommunity, (x) => x);
    steps.push((a) => withField(a, 'communities', change(a.communities)));
  }
  if (s.largeCommunities !== undefined) {
    const change = compileListChange(s.largeCommunities, `${field}.largeCommunities`, parseLargeCommunity, lcKey);
    steps.push((a) => withField(a, 'largeCommunities', change(a.largeCommunities)));
  }
  if (s.asPathPrepend !== undefined) {
    const f = `${field}.asPathPrepend`;
    if (!isObject(s.asPathPrepend)) throw new PolicyConfigError(f, 'must be { asn?, count }');
    checkKeys(s.asPathPrepend, ['asn', 'count'], f);
    const count = checkUint(s.asPathPrepend.count, `${f}.count`, 32);
    const asn = s.asPathPrepend.asn === undefined ? localAs : checkUint(s.asPathPrepend.asn, `${f}.asn`);
    if (asn === undefined) throw new PolicyConfigError(`${f}.asn`, 'required where the local AS is not known');
    steps.push((a) => withField(a, 'asPath', prependAs(a.asPath, asn, count)));
  }
  if (s.nextHop !== undefined) {
    const f = `${field}.nextHop`;
    if (s.nextHop === 'self') {
      steps.push((a, ctx) => {
        if (!ctx?.selfNextHop) return a;
        return withField(a, 'nextHop', ctx.selfNextHop);
      });
    } else {
      const nh = parseAddress(s.nextHop, f);
      steps.push((a) => withField(a, 'nextHop', nh));
    }
  }
  return (a, ctx) => {
    let out = a;
    for (const step of steps) out = step(out, ctx);
    return out;
  };
}

interface CompiledTerm {
  readonly name: string | undefined;
  readonly match: Matcher | undefined;
  readonly set: Changer | undefined;
  readonly action: 'accept' | 'reject' | 'next';
}

function compileTerm(
  v: unknown,
  field: string,
  localAs: number | undefined,
): CompiledTerm & { prefixDependent: boolean } {
  if (!isObject(v)) throw new PolicyConfigError(field, 'must be an object');
  checkKeys(v, TERM_KEYS, field);
  const t = v as TermConfig;
  if (t.name !== undefined && typeof t.name !== 'string')
    throw new PolicyConfigError(`${field}.name`, 'must be a string');
  const action = t.action ?? 'accept';
  if (action !== 'accept' && action !== 'reject' && action !== 'next')
    throw new PolicyConfigError(`${field}.action`, `must be accept, reject or next, got ${JSON.stringify(action)}`);
  const m = t.match === undefined ? undefined : compileMatch(t.match, `${field}.match`);
  const set = t.set === undefined ? undefined : compileSet(t.set, `${field}.set`, localAs);
  return { name: t.name, match: m?.match, set, action, prefixDependent: m?.prefixDependent ?? false };
}

/** Validates `config` and returns its evaluator. Throws PolicyConfigError naming the bad field. */
export function compilePolicy(config: PolicyConfig | undefined, options: CompileOptions = {}): Policy {
  const field = options.field ?? 'policy';
  if (config === undefined) return ACCEPT_ALL;
  if (!isObject(config)) throw new PolicyConfigError(field, 'must be an object with terms and default');
  checkKeys(config, ['terms', 'default'], field);
  const def = config.default ?? 'accept';
  if (def !== 'accept' && def !== 'reject')
    throw new PolicyConfigError(`${field}.default`, `must be accept or reject, got ${JSON.stringify(def)}`);
  const terms = (config.terms === undefined ? [] : checkArray(config.terms, `${field}.terms`)).map((t, i) =>
    compileTerm(t, `${field}.terms[${i}]`, options.localAs),
  );
  const prefixDependent = terms.some((t) => t.prefixDependent);
  return {
    prefixDependent,
    evaluate(route, context) {
      let cur = route;
      for (const t of terms) {
        if (t.match && !t.match(cur)) continue;
        if (t.action === 'reject') return { accepted: false, term: t.name };
        if (t.set) cur = { key: cur.key, attrs: t.set(cur.attrs, context) };
        if (t.action === 'accept') return { accepted: true, attrs: cur.attrs };
      }
      return def === 'accept' ? { accepted: true, attrs: cur.attrs } : { accepted: false, term: undefined };
    },
  };
}

/** The policy that accepts everything unchanged. */
export const ACCEPT_ALL: Policy = {
  prefixDependent: false,
  evaluate: (route) => ({ accepted: true, attrs: route.attrs }),
};
