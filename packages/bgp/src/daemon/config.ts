// tortie-bgpd configuration: YAML (JSON is YAML) in, a validated plain object out. Every error
// names the key it is about, as `neighbors[1].holdTime: must be 0 or 3..65535, got 2`.
import { isIPv4, isIPv6 } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { compilePolicy, type PolicyConfig, PolicyConfigError } from '../policy/index.js';

export type FamilyName = 'ipv4-unicast' | 'ipv6-unicast';
const FAMILIES: readonly FamilyName[] = ['ipv4-unicast', 'ipv6-unicast'];

export interface LargeCommunityValue {
  readonly global: number;
  readonly local1: number;
  readonly local2: number;
}

export interface NeighborConfig {
  readonly address: string;
  readonly asn: number;
  readonly port: number;
  readonly description?: string;
  readonly localAddress?: string;
  readonly passive: boolean;
  readonly holdTime: number;
  readonly connectRetryTime: number;
  readonly families: readonly FamilyName[];
  readonly routeReflectorClient: boolean;
  readonly nextHopSelf: boolean;
  /** eBGP multihop TTL; 1 (single hop) by default for eBGP. */
  readonly ttl?: number;
  readonly gracefulRestart: { readonly restartTime: number } | false;
  /** IPv6 next hop to send when we are the next hop on an IPv4 session (MP-BGP). */
  readonly ipv6NextHop?: string;
  /** Import policy (policy/ schema: terms and default); undefined: accept everything the standard rules accept. */
  readonly import?: PolicyConfig;
  /** Export policy; undefined: the standard BGP advertisement rules only. */
  readonly export?: PolicyConfig;
}

export interface AdvertiseConfig {
  readonly prefix: string;
  readonly family: FamilyName;
  readonly communities: readonly number[];
  readonly largeCommunities: readonly LargeCommunityValue[];
  readonly med?: number;
  readonly localPref?: number;
  readonly nextHop?: string;
}

export interface DaemonConfig {
  readonly routerId: string;
  readonly asn: number;
  readonly listen: { readonly address: string; readonly port: number } | false;
  readonly clusterId?: string;
  readonly neighbors: readonly NeighborConfig[];
  readonly advertise: readonly AdvertiseConfig[];
  readonly statusSocket?: string;
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug';
}

export interface ConfigIssue {
  /** `neighbors[1].holdTime`; empty for the document as a whole. */
  readonly path: string;
  readonly message: string;
}

/** A configuration that cannot be used; `issues` lists every problem found, each naming its key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], source?: string) {
    super(
      `${source === undefined ? 'invalid configuration' : `invalid configuration in ${source}`}:\n${issues
        .map((i) => `  ${i.path === '' ? '(document)' : i.path}: ${i.message}`)
        .join('\n')}`,
    );
    this.issues = issues;
  }
}

const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, number>> = {
  'no-export': 0xffffff01,
  'no-advertise': 0xffffff02,
  'no-export-subconfed': 0xffffff03,
  'no-peer': 0xffffff04,
  blackhole: 0xffff029a,
  'graceful-shutdown': 0xffff0000,
  'accept-own': 0xffff0001,
  'llgr-stale': 0xffff0006,
  'no-llgr': 0xffff0007,
};

/** `65001:100` or a well-known name to the 32-bit community value; undefined if malformed. */
export function parseCommunity(text: string): number | undefined {
  const wk = WELL_KNOWN_COMMUNITIES[text.toLowerCase()];
  if (wk !== undefined) return wk;
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const hi = Number(m[1]);
  const lo = Number(m[2]);
  if (hi > 0xffff || lo > 0xffff) return undefined;
  return hi * 0x10000 + lo;
}

export function formatCommunity(value: number): string {
  for (const [name, v] of Object.entries(WELL_KNOWN_COMMUNITIES)) if (v === value) return name;
  return `${Math.floor(value / 0x10000)}:${value & 0xffff}`;
}

/** `65001:1:2` to a large community; undefined if malformed. */
export function parseLargeCommunity(text: string): LargeCommunityValue | undefined {
  const m = /^(\d{1,10}):(\d{1,10}):(\d{1,10})$/.exec(text);
  if (!m) return undefined;
  const parts = [Number(m[1]), Number(m[2]), Number(m[3])] as const;
  if (parts.some((p) => p > 0xffffffff)) return undefined;
  return { global: parts[0], local1: parts[1], local2: parts[2] };
}

/** Checks `a.b.c.d/n` or `x::/n` with no host bits set; returns the family or an error text. */
export function checkPrefix(text: string): { family: FamilyName; length: number } | string {
  const slash = text.indexOf('/');
  if (slash < 0) return `must be a prefix like 10.0.0.0/24 or 2001:db8::/64, got ${JSON.stringify(text)}`;
  const addr = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return `bad prefix length in ${JSON.stringify(text)}`;
  const length = Number(lenText);
  if (isIPv4(addr)) {
    if (length > 32) return `prefix length must be 0..32, got ${length}`;
    const n = addr.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    const host = length === 32 ? 0 : n % 2 ** (32 - length);
    if (host !== 0) return `host bits set in ${text}`;
    return { family: 'ipv4-unicast', length };
  }
  if (isIPv6(addr)) {
    if (length > 128) return `prefix length must be 0..128, got ${length}`;
    const bytes = ipv6Bytes(addr);
    for (let bit = length; bit < 128; bit++) {
      if ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) return `host bits set in ${text}`;
    }
    return { family: 'ipv6-unicast', length };
  }
  return `must be a prefix like 10.0.0.0/24 or 2001:db8::/64, got ${JSON.stringify(text)}`;
}

/** 16 bytes of a valid IPv6 address text (including an embedded IPv4 tail). */
export function ipv6Bytes(text: string): Uint8Array {
  const out = new Uint8Array(16);
  let s = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  const tail: number[] = [];
  if (v4) {
    const o = v4[1]!.split('.').map(Number);
    tail.push((o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!);
    s = s.slice(0, s.length - v4[1]!.length);
    if (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  }
  const [headText, tailText] = s.includes('::') ? s.split('::') : [s, undefined];
  const head = headText ? headText.split(':').filter((x) => x !== '') : [];
  const rest = tailText ? tailText.split(':').filter((x) => x !== '') : [];
  const groups = [...head.map((h) => parseInt(h, 16))];
  const back = [...rest.map((h) => parseInt(h, 16)), ...tail];
  const zeros = 8 - groups.length - back.length;
  const all = [...groups, ...new Array<number>(Math.max(0, zeros)).fill(0), ...back];
  for (let i = 0; i < 8; i++) {
    out[i * 2] = (all[i]! >> 8) & 0xff;
    out[i * 2 + 1] = all[i]! & 0xff;
  }
  return out;
}

// ---- the validator ----

type Obj = Record<string, unknown>;

class Checker {
  readonly issues: ConfigIssue[] = [];

  fail(path: string, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  object(v: unknown, path: string, allowed: readonly string[]): Obj | undefined {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return this.fail(path, `must be a mapping, got ${show(v)}`);
    const o = v as Obj;
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail(join(path, k), `unknown key (allowed here: ${allowed.join(', ')})`);
    }
    return o;
  }

  array(v: unknown, path: string): unknown[] | undefined {
    if (!Array.isArray(v)) return this.fail(path, `must be a list, got ${show(v)}`);
    return v;
  }

  int(v: unknown, path: string, min: number, max: number, rule?: string): number | undefined {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      return this.fail(path, `${rule ?? `must be an integer ${min}..${max}`}, got ${show(v)}`);
    return v;
  }

  bool(v: unknown, path: string): boolean | undefined {
    if (typeof v !== 'boolean') return this.fail(path, `must be true or false, got ${show(v)}`);
    return v;
  }

  string(v: unknown, path: string): string | undefined {
    if (typeof v !== 'string' || v === '') return this.fail(path, `must be a non-empty string, got ${show(v)}`);
    return v;
  }

  ipv4(v: unknown, path: string): string | undefined {
    if (typeof v !== 'string' || !isIPv4(v)) return this.fail(path, `must be an IPv4 address, got ${show(v)}`);
    return v;
  }

  ip(v: unknown, path: string): string | undefined {
    if (typeof v !== 'string' || (!isIPv4(v) && !isIPv6(v)))
      return this.fail(path, `must be an IPv4 or IPv6 address, got ${show(v)}`);
    return v;
  }

  asn(v: unknown, path: string): number | undefined {
    return this.int(v, path, 1, 0xffffffff, 'must be an AS number 1..4294967295');
  }

  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T | undefined {
    if (typeof v !== 'string' || !values.includes(v as T))
      return this.fail(path, `must be one of ${values.join(', ')}, got ${show(v)}`);
    return v as T;
  }

  community(v: unknown, path: string): number | undefined {
    const c = typeof v === 'string' ? parseCommunity(v) : undefined;
    if (c === undefined)
      return this.fail(path, `must be a community like 65001:100 or a well-known name, got ${show(v)}`);
    return c;
  }

  largeCommunity(v: unknown, path: string): LargeCommunityValue | undefined {
    const c = typeof v === 'string' ? parseLargeCommunity(v) : undefined;
    if (c === undefined) return this.fail(path, `must be a large community like 65001:1:2, got ${show(v)}`);
    return c;
  }

  prefix(v: unknown, path: string): { family: FamilyName; length: number } | undefined {
    if (typeof v !== 'string') return this.fail(path, `must be a prefix like 10.0.0.0/24, got ${show(v)}`);
    const r = checkPrefix(v);
    if (typeof r === 'string') return this.fail(path, r);
    return r;
  }

  list<T>(v: unknown, path: string, each: (x: unknown, p: string) => T | undefined): T[] | undefined {
    const a = this.array(v, path);
    if (!a) return undefined;
    const out: T[] = [];
    a.forEach((x, i) => {
      const r = each(x, `${path}[${i}]`);
      if (r !== undefined) out.push(r);
    });
    return out;
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'a list' : 'a mapping';
  return String(v);
}

const TOP_KEYS = [
  'routerId',
  'asn',
  'listen',
  'clusterId',
  'neighbors',
  'advertise',
  'statusSocket',
  'logLevel',
] as const;
const NEIGHBOR_KEYS = [
  'address',
  'asn',
  'port',
  'description',
  'localAddress',
  'passive',
  'holdTime',
  'connectRetryTime',
  'families',
  'routeReflectorClient',
  'nextHopSelf',
  'ttl',
  'gracefulRestart',
  'ipv6NextHop',
  'import',
  'export',
] as const;

/** Validates a parsed document (from YAML or JSON) and returns the configuration with defaults filled in. */
export function validateConfig(doc: unknown, source?: string): DaemonConfig {
  const c = new Checker();
  const top = c.object(doc, '', TOP_KEYS);
  if (!top) throw new ConfigError(c.issues, source);

  const routerId = top.routerId === undefined ? c.fail('routerId', 'is required') : c.ipv4(top.routerId, 'routerId');
  const asn = top.asn === undefined ? c.fail('asn', 'is required') : c.asn(top.asn, 'asn');

  let listen: DaemonConfig['listen'] = { address: '::', port: 179 };
  if (top.listen === false) listen = false;
  else if (top.listen !== undefined) {
    const l = c.object(top.listen, 'listen', ['address', 'port']);
    if (l) {
      const address = l.address === undefined ? '::' : c.ip(l.address, 'listen.address');
      const port = l.port === undefined ? 179 : c.int(l.port, 'listen.port', 0, 65535);
      if (address !== undefined && port !== undefined) listen = port === 0 ? false : { address, port };
    }
  }

  const clusterId = top.clusterId === undefined ? undefined : c.ipv4(top.clusterId, 'clusterId');
  const statusSocket = top.statusSocket === undefined ? undefined : c.string(top.statusSocket, 'statusSocket');
  const logLevel =
    top.logLevel === undefined
      ? 'info'
      : (c.oneOf(top.logLevel, 'logLevel', ['error', 'warn', 'info', 'debug'] as const) ?? 'info');

  const neighbors =
    top.neighbors === undefined ? [] : (c.list(top.neighbors, 'neighbors', (n, p) => neighbor(c, n, p, asn)) ?? []);
  if (Array.isArray(top.neighbors)) {
    const seen = new Map<string, number>();
    top.neighbors.forEach((n: unknown, i) => {
      const a = typeof n === 'object' && n !== null ? (n as Obj).address : undefined;
      if (typeof a !== 'string' || (!isIPv4(a) && !isIPv6(a))) return;
      const key = isIPv6(a) ? Buffer.from(ipv6Bytes(a)).toString('hex') : a;
      const prev = seen.get(key);
      if (prev !== undefined) c.fail(`neighbors[${i}].address`, `${a} is already configured as neighbors[${prev}]`);
      else seen.set(key, i);
    });
  }

  const advertise =
    top.advertise === undefined ? [] : (c.list(top.advertise, 'advertise', (a, p) => advertised(c, a, p)) ?? []);

  if (c.issues.length > 0 || routerId === undefined || asn === undefined) throw new ConfigError(c.issues, source);
  return {
    routerId,
    asn,
    listen,
    ...(clusterId === undefined ? {} : { clusterId }),
    neighbors,
    advertise,
    ...(statusSocket === undefined ? {} : { statusSocket }),
    logLevel,
  };
}

function neighbor(c: Checker, v: unknown, p: string, localAs: number | undefined): NeighborConfig | undefined {
  const n = c.object(v, p, NEIGHBOR_KEYS);
  if (!n) return undefined;
  const address = n.address === undefined ? c.fail(`${p}.address`, 'is required') : c.ip(n.address, `${p}.address`);
  const asn = n.asn === undefined ? c.fail(`${p}.asn`, 'is required') : c.asn(n.asn, `${p}.asn`);
  const port = n.port === undefined ? 179 : c.int(n.port, `${p}.port`, 1, 65535);
  const description = n.description === undefined ? undefined : c.string(n.description, `${p}.description`);
  const localAddress = n.localAddress === undefined ? undefined : c.ip(n.localAddress, `${p}.localAddress`);
  const passive = n.passive === undefined ? false : c.bool(n.passive, `${p}.passive`);
  let holdTime: number | undefined = 90;
  if (n.holdTime !== undefined) {
    const h = n.holdTime;
    if (typeof h !== 'number' || !Number.isInteger(h) || h < 0 || h > 65535 || h === 1 || h === 2)
      holdTime = c.fail(`${p}.holdTime`, `must be 0 or 3..65535, got ${show(h)}`);
    else holdTime = h;
  }
  const connectRetryTime =
    n.connectRetryTime === undefined ? 5 : c.int(n.connectRetryTime, `${p}.connectRetryTime`, 1, 65535);
  let families: FamilyName[] | undefined =
    address !== undefined && isIPv6(address) ? ['ipv6-unicast'] : ['ipv4-unicast', 'ipv6-unicast'];
  if (n.families !== undefined) {
    families = c.list(n.families, `${p}.families`, (f, fp) => c.oneOf(f, fp, FAMILIES));
    if (Array.isArray(n.families) && n.families.length === 0) c.fail(`${p}.families`, 'must name at least one family');
    if (families && new Set(families).size !== families.length) c.fail(`${p}.families`, 'lists a family twice');
  }
  const routeReflectorClient =
    n.routeReflectorClient === undefined ? false : c.bool(n.routeReflectorClient, `${p}.routeReflectorClient`);
  const nextHopSelf = n.nextHopSelf === undefined ? false : c.bool(n.nextHopSelf, `${p}.nextHopSelf`);
  const ttl = n.ttl === undefined ? undefined : c.int(n.ttl, `${p}.ttl`, 1, 255);
  let ipv6NextHop: string | undefined;
  if (n.ipv6NextHop !== undefined) {
    if (typeof n.ipv6NextHop !== 'string' || !isIPv6(n.ipv6NextHop))
      c.fail(`${p}.ipv6NextHop`, `must be an IPv6 address, got ${show(n.ipv6NextHop)}`);
    else ipv6NextHop = n.ipv6NextHop;
  }
  let gracefulRestart: NeighborConfig['gracefulRestart'] | undefined = false;
  if (n.gracefulRestart === false) gracefulRestart = false;
  else if (n.gracefulRestart === true) gracefulRestart = { restartTime: 120 };
  else if (n.gracefulRestart !== undefined) {
    const g = c.object(n.gracefulRestart, `${p}.gracefulRestart`, ['restartTime']);
    if (g) {
      const restartTime =
        g.restartTime === undefined ? 120 : c.int(g.restartTime, `${p}.gracefulRestart.restartTime`, 1, 4095);
      gracefulRestart = restartTime === undefined ? undefined : { restartTime };
    } else gracefulRestart = undefined;
  }
  const imp = n.import === undefined ? undefined : policy(c, n.import, `${p}.import`, localAs);
  const exp = n.export === undefined ? undefined : policy(c, n.export, `${p}.export`, localAs);
  if (
    address === undefined ||
    asn === undefined ||
    port === undefined ||
    passive === undefined ||
    holdTime === undefined ||
    connectRetryTime === undefined ||
    families === undefined ||
    routeReflectorClient === undefined ||
    nextHopSelf === undefined ||
    gracefulRestart === undefined ||
    (n.import !== undefined && imp === undefined) ||
    (n.export !== undefined && exp === undefined)
  )
    return undefined;
  return {
    address,
    asn,
    port,
    ...(description === undefined ? {} : { description }),
    ...(localAddress === undefined ? {} : { localAddress }),
    passive,
    holdTime,
    connectRetryTime,
    families,
    routeReflectorClient,
    nextHopSelf,
    ...(ttl === undefined ? {} : { ttl }),
    gracefulRestart,
    ...(ipv6NextHop === undefined ? {} : { ipv6NextHop }),
    ...(imp === undefined ? {} : { import: imp }),
    ...(exp === undefined ? {} : { export: exp }),
  };
}

function policy(c: Checker, v: unknown, p: string, localAs: number | undefined): PolicyConfig | undefined {
  try {
    compilePolicy(v as PolicyConfig, { field: p, ...(localAs === undefined ? {} : { localAs }) });
  } catch (e) {
    if (!(e instanceof PolicyConfigError)) throw e;
    const prefix = `${e.field}: `;
    return c.fail(e.field, e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message);
  }
  return v as PolicyConfig;
}

function advertised(c: Checker, v: unknown, p: string): AdvertiseConfig | undefined {
  const o = c.object(v, p, ['prefix', 'communities', 'largeCommunities', 'med', 'localPref', 'nextHop']);
  if (!o) return undefined;
  const pr = o.prefix === undefined ? c.fail(`${p}.prefix`, 'is required') : c.prefix(o.prefix, `${p}.prefix`);
  const communities =
    o.communities === undefined ? [] : c.list(o.communities, `${p}.communities`, (x, xp) => c.community(x, xp));
  const largeCommunities =
    o.largeCommunities === undefined
      ? []
      : c.list(o.largeCommunities, `${p}.largeCommunities`, (x, xp) => c.largeCommunity(x, xp));
  const med = o.med === undefined ? undefined : c.int(o.med, `${p}.med`, 0, 0xffffffff);
  const localPref = o.localPref === undefined ? undefined : c.int(o.localPref, `${p}.localPref`, 0, 0xffffffff);
  const nextHop = o.nextHop === undefined ? undefined : c.ip(o.nextHop, `${p}.nextHop`);
  if (pr === undefined || communities === undefined || largeCommunities === undefined) return undefined;
  return {
    prefix: o.prefix as string,
    family: pr.family,
    communities,
    largeCommunities,
    ...(med === undefined ? {} : { med }),
    ...(localPref === undefined ? {} : { localPref }),
    ...(nextHop === undefined ? {} : { nextHop }),
  };
}

/** Parses YAML or JSON text and validates it. */
export function parseConfig(text: string, source?: string): DaemonConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true });
  } catch (e) {
    throw new ConfigError([{ path: '', message: `not valid YAML or JSON: ${(e as Error).message}` }], source);
  }
  return validateConfig(doc ?? {}, source);
}
