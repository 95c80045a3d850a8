// Interned path attribute sets. Every route points at one shared AttrSet; an UPDATE's attributes
// are interned once, however many prefixes it carries. An AttrSet also caches what the decision
// process reads (LOCAL_PREF, AS_PATH length, neighbour AS, ...), so best-path selection never
// re-walks the attributes.

import type { AsPathSegment, PathAttributes } from '../wire/types.js';
import { parseIpv4 } from './prefix.js';

/** Well-known communities (RFC 1997). */
export const WellKnownCommunity = {
  NO_EXPORT: 0xffffff01,
  NO_ADVERTISE: 0xffffff02,
  NO_EXPORT_SUBCONFED: 0xffffff03,
} as const;

export const CommunityFlag = { NO_EXPORT: 1, NO_ADVERTISE: 2, NO_EXPORT_SUBCONFED: 4 } as const;

function hexBytes(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}

function pathString(path: readonly AsPathSegment[]): string {
  let s = '';
  for (const seg of path) s += `${seg.type}:${seg.asns.join(',')};`;
  return s;
}

/**
 * Canonical key of an attribute set: equal keys mean equal attributes. Community lists are kept
 * in their given order (order is not significant to BGP, but keeping it makes the key exact).
 */
export function attrKey(a: PathAttributes): string {
  let k = `${a.origin ?? ''}|${a.asPath ? pathString(a.asPath) : ''}|${a.nextHop ?? ''}|${a.med ?? ''}|${a.localPref ?? ''}|${a.atomicAggregate ? 1 : ''}|`;
  k += a.aggregator ? `${a.aggregator.asn}@${a.aggregator.address}` : '';
  k += `|${a.communities ? a.communities.join(',') : ''}|`;
  if (a.extendedCommunities) for (const e of a.extendedCommunities) k += `${hexBytes(e)},`;
  k += '|';
  if (a.largeCommunities) for (const l of a.largeCommunities) k += `${l.global}:${l.local1}:${l.local2},`;
  k += `|${a.originatorId ?? ''}|${a.clusterList ? a.clusterList.join(',') : ''}|`;
  if (a.unknown) for (const u of a.unknown) k += `${u.code}/${u.flags}/${hexBytes(u.value)},`;
  return k;
}

/** AS_PATH length for the decision process: SEQUENCE counts each AS, SET counts 1, confederation segments 0. */
export function asPathLength(path: readonly AsPathSegment[] | undefined): number {
  if (!path) return 0;
  let n = 0;
  for (const seg of path) {
    if (seg.type === 2) n += seg.asns.length;
    else if (seg.type === 1) n += 1;
  }
  return n;
}

/** The leftmost AS of the path outside confederation segments (the neighbour AS), or 0 for an empty path. */
export function neighborAs(path: readonly AsPathSegment[] | undefined): number {
  if (!path) return 0;
  for (const seg of path) {
    if (seg.type === 3 || seg.type === 4) continue;
    if (seg.type === 2) return seg.asns[0] ?? 0;
    return 0; // a path starting with an AS_SET has no single neighbour AS
  }
  return 0;
}

/** The rightmost AS of the path (the originating AS), or 0 when it ends in a set or is empty. */
export function originAs(path: readonly AsPathSegment[] | undefined): number {
  if (!path || path.length === 0) return 0;
  const last = path[path.length - 1]!;
  if (last.type !== 2) return 0;
  return last.asns[last.asns.length - 1] ?? 0;
}

export class AttrSet {
  /** Small integer, reused after the set is dropped. Starts at 1 (0 means "none" in per-slot arrays). */
  readonly id: number;
  readonly attrs: PathAttributes;
  readonly key: string;
  /** References from routes, Adj-RIB-Out entries and caches. */
  refs = 0;
  /** LOCAL_PREF, or -1 when absent (the Loc-RIB then applies its default). */
  readonly localPref: number;
  readonly asPathLength: number;
  readonly origin: number;
  /** MED, or -1 when absent. */
  readonly med: number;
  readonly neighborAs: number;
  /** ORIGINATOR_ID as a number, or -1 when absent. */
  readonly originatorId: number;
  readonly clusterListLength: number;
  /** Bit set of CommunityFlag. */
  readonly wellKnown: number;
  /**
   * Sets derived from this one by a consumer (e.g. an Adj-RIB-Out's export result; null = rejected),
   * keyed by a consumer-chosen number. Each derived set holds one reference, released with this set.
   */
  derived: Map<number, AttrSet | null> | undefined;
  /** The first derived entry is kept inline (no Map for the common single-consumer case). */
  derivedKey: number;
  derivedValue: AttrSet | null;

  constructor(id: number, attrs: PathAttributes, key: string) {
    this.id = id;
    this.attrs = attrs;
    this.key = key;
    this.localPref = attrs.localPref ?? -1;
    this.asPathLength = asPathLength(attrs.asPath);
    this.origin = attrs.origin ?? 2;
    this.med = attrs.med ?? -1;
    this.neighborAs = neighborAs(attrs.asPath);
    this.originatorId = attrs.originatorId !== undefined ? (parseIpv4(attrs.originatorId) ?? -1) : -1;
    this.clusterListLength = attrs.clusterList?.length ?? 0;
    let wk = 0;
    if (attrs.communities) {
      for (const c of attrs.communities) {
        if (c === WellKnownCommunity.NO_EXPORT) wk |= CommunityFlag.NO_EXPORT;
        else if (c === WellKnownCommunity.NO_ADVERTISE) wk |= CommunityFlag.NO_ADVERTISE;
        else if (c === WellKnownCommunity.NO_EXPORT_SUBCONFED) wk |= CommunityFlag.NO_EXPORT_SUBCONFED;
      }
    }
    this.wellKnown = wk;
    this.derived = undefined;
    this.derivedKey = -1;
    this.derivedValue = null;
  }
}

/**
 * The registry of interned attribute sets, shared by all peers and tables of a speaker. `intern`
 * returns the one AttrSet for equal attributes and adds a reference; `release` drops one, and the
 * set is forgotten when none remain.
 */
export class AttrSetRegistry {
  private readonly byKey = new Map<string, AttrSet>();
  private readonly byId: (AttrSet | undefined)[] = [undefined];
  private readonly freeIds: number[] = [];
  get size(): number {
    return this.byKey.size;
  }

  /** Interns `attrs` and takes `count` references on the result (default 1). */
  intern(attrs: PathAttributes, count = 1): AttrSet {
    const key = attrKey(attrs);
    let set = this.byKey.get(key);
    if (!set) {
      const id = this.freeIds.pop() ?? this.byId.length;
      set = new AttrSet(id, attrs, key);
      this.byKey.set(key, set);
      this.byId[id] = set;
    }
    set.refs += count;
    return set;
  }

  /** Looks up an interned set without taking a reference. */
  lookup(attrs: PathAttributes): AttrSet | undefined {
    return this.byKey.get(attrKey(attrs));
  }

  get(id: number): AttrSet {
    const s = this.byId[id];
    if (!s) throw new RangeError(`attribute set ${id} is not interned (released too often?)`);
    return s;
  }

  retain(set: AttrSet, count = 1): void {
    set.refs += count;
  }

  release(set: AttrSet, count = 1): void {
    set.refs -= count;
    if (set.refs <= 0) {
      if (set.refs < 0) throw new RangeError(`attribute set ${set.id} released more often than retained`);
      this.byKey.delete(set.key);
      this.byId[set.id] = undefined;
      this.freeIds.push(set.id);
      const derived = set.derived;
      const inline = set.derivedKey >= 0 ? set.derivedValue : null;
      set.derived = undefined;
      set.derivedKey = -1;
      set.derivedValue = null;
      if (inline && inline !== set) this.release(inline);
      if (derived) for (const d of derived.values()) if (d && d !== set) this.release(d);
    }
  }

  releaseId(id: number, count = 1): void {
    this.release(this.get(id), count);
  }

  values(): IterableIterator<AttrSet> {
    return this.byKey.values();
  }

  /** The cached derived set of `set` for `consumer`: an AttrSet, null (rejected) or undefined (not cached). */
  derivedOf(set: AttrSet, consumer: number): AttrSet | null | undefined {
    if (set.derivedKey === consumer) return set.derivedValue;
    return set.derived?.get(consumer);
  }

  /** Caches `result` (retaining it) as derived from `set` for `consumer`. */
  setDerived(set: AttrSet, consumer: number, result: AttrSet | null): void {
    // a set derived from itself holds no reference (it would keep itself alive)
    if (result && result !== set) result.refs++;
    let old: AttrSet | null | undefined;
    if (set.derivedKey < 0 || set.derivedKey === consumer) {
      old = set.derivedKey === consumer ? set.derivedValue : undefined;
      set.derivedKey = consumer;
      set.derivedValue = result;
    } else {
      if (!set.derived) set.derived = new Map();
      old = set.derived.get(consumer);
      set.derived.set(consumer, result);
    }
    if (old && old !== set) this.release(old);
  }

  /** Drops every cached derived set whose consumer number is in [from, to). */
  clearDerived(from: number, to = from + 1): void {
    const drop: AttrSet[] = [];
    for (const set of this.byKey.values()) {
      if (set.derivedKey >= from && set.derivedKey < to) {
        const d = set.derivedValue;
        set.derivedKey = -1;
        set.derivedValue = null;
        if (d && d !== set) drop.push(d);
      }
      if (!set.derived) continue;
      for (const [consumer, d] of set.derived) {
        if (consumer < from || consumer >= to) continue;
        set.derived.delete(consumer);
        if (d && d !== set) drop.push(d);
      }
    }
    for (const d of drop) this.release(d);
  }
}

const ATTR_FIELDS = [
  'origin',
  'asPath',
  'nextHop',
  'med',
  'localPref',
  'atomicAggregate',
  'aggregator',
  'communities',
  'extendedCommunities',
  'largeCommunities',
  'originatorId',
  'clusterList',
  'unknown',
] as const satisfies readonly (keyof PathAttributes)[];

export type AttrChanges = { -readonly [K in keyof PathAttributes]?: PathAttributes[K] | undefined };

/**
 * A copy of `a` with `changes` applied (a field set to undefined is removed). Builds the object in
 * one fixed field order and never uses `delete`, so results share hidden classes and stay compact.
 */
export function withAttrs(a: PathAttributes, changes: AttrChanges): PathAttributes {
  const out: Record<string, unknown> = {};
  for (const f of ATTR_FIELDS) {
    const v = f in changes ? changes[f] : a[f];
    if (v !== undefined) out[f] = v;
  }
  return out as PathAttributes;
}
