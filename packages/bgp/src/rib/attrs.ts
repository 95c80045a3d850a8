// Interned path attribute sets. Every route points at one shared AttrSet; an UPDATE's attributes
// are interned once, however many prefixes it carries. An AttrSet also caches what the decision
// process reads (LOCAL_PREF, AS_PATH length, neighbour AS, ...), so best-path selection never
// re-walks the attributes.

import { ByteWriter } from '../wire/bytes.js';
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

/**
 * An interned attribute set. What the decision process reads (LOCAL_PREF, AS_PATH length, ...)
 * lives in the registry's typed arrays at index `id`; the object itself holds only the id, the
 * attributes and the derived-set cache, so a set costs a few dozen bytes beyond its attributes.
 */
export class AttrSet {
  /** Small integer, reused after the set is dropped. Starts at 1 (0 means "none" in per-slot arrays). */
  readonly id: number;
  readonly attrs: PathAttributes;
  readonly #reg: AttrSetRegistry;
  /**
   * Sets derived from this one by a consumer (e.g. an Adj-RIB-Out's export result; null = rejected),
   * keyed by a consumer-chosen number. Each derived set holds one reference, released with this set.
   */
  derived: Map<number, AttrSet | null> | undefined;
  /** The first derived entry is kept inline (no Map for the common single-consumer case). */
  derivedKey: number;
  derivedValue: AttrSet | null;

  constructor(id: number, attrs: PathAttributes, registry: AttrSetRegistry) {
    this.id = id;
    this.attrs = attrs;
    this.#reg = registry;
    this.derived = undefined;
    this.derivedKey = -1;
    this.derivedValue = null;
  }

  /** References from routes, Adj-RIB-Out entries and caches. */
  get refs(): number {
    return this.#reg.fields.refs[this.id]!;
  }
  set refs(n: number) {
    this.#reg.fields.refs[this.id] = n;
  }
  /** LOCAL_PREF, or -1 when absent (the Loc-RIB then applies its default). */
  get localPref(): number {
    return this.#reg.fields.localPref[this.id]!;
  }
  get asPathLength(): number {
    return this.#reg.fields.asPathLength[this.id]!;
  }
  get origin(): number {
    return this.#reg.fields.origin[this.id]!;
  }
  /** MED, or -1 when absent. */
  get med(): number {
    return this.#reg.fields.med[this.id]!;
  }
  get neighborAs(): number {
    return this.#reg.fields.neighborAs[this.id]!;
  }
  /** ORIGINATOR_ID as a number, or -1 when absent. */
  get originatorId(): number {
    const v = this.#reg.fields.originatorId[this.id]!;
    return v === 0 ? -1 : v;
  }
  get clusterListLength(): number {
    return this.#reg.fields.clusterListLength[this.id]!;
  }
  /** Bit set of CommunityFlag. */
  get wellKnown(): number {
    return this.#reg.fields.wellKnown[this.id]!;
  }
  /** Canonical text of the attributes (computed on demand; equal keys mean equal attributes). */
  get key(): string {
    return attrKey(this.attrs);
  }
}

/** Per-set decision fields, indexed by set id. */
export interface AttrFields {
  refs: Int32Array;
  localPref: Float64Array;
  med: Float64Array;
  /** 0 when the path has no neighbour AS. */
  neighborAs: Uint32Array;
  /** ORIGINATOR_ID as a number; 0 when absent (0.0.0.0 is no valid BGP identifier). */
  originatorId: Uint32Array;
  asPathLength: Int32Array;
  clusterListLength: Int32Array;
  origin: Uint8Array;
  wellKnown: Uint8Array;
}

function newFields(cap: number): AttrFields {
  return {
    refs: new Int32Array(cap),
    localPref: new Float64Array(cap),
    med: new Float64Array(cap),
    neighborAs: new Uint32Array(cap),
    originatorId: new Uint32Array(cap),
    asPathLength: new Int32Array(cap),
    clusterListLength: new Int32Array(cap),
    origin: new Uint8Array(cap),
    wellKnown: new Uint8Array(cap),
  };
}

function growFields(f: AttrFields, cap: number): AttrFields {
  const g = newFields(cap);
  for (const k of Object.keys(f) as (keyof AttrFields)[]) (g[k] as Int32Array).set(f[k] as Int32Array);
  return g;
}

// ---- canonical bytes ----

/**
 * Writes the canonical bytes of `a` (a tag per present field, then its value; numbers as 32-bit
 * words, text as its characters) into a scratch buffer and returns their length. Equal bytes
 * mean equal attributes; no string is built.
 */
class CanonicalWriter extends ByteWriter {
  text(s: string): void {
    this.ensure(4 + s.length * 2); // the length word, then up to two bytes a character
    this.u32(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 128) this.buf[this.pos++] = c;
      else {
        this.buf[this.pos++] = 128 | (c >>> 8);
        this.buf[this.pos++] = c & 255;
      }
    }
  }
  /** Length first, so adjacent byte strings cannot run into each other. */
  sizedBytes(v: Uint8Array): void {
    this.u32(v.length);
    this.bytes(v);
  }

  /** An empty list is no attribute (encoders leave it out); an empty AS_PATH is one. */
  write(a: PathAttributes): number {
    this.pos = 0;
    if (a.origin !== undefined) {
      this.u8(1);
      this.u8(a.origin);
    }
    if (a.asPath) {
      this.u8(2);
      this.u32(a.asPath.length);
      for (const seg of a.asPath) {
        this.u8(seg.type);
        this.u32(seg.asns.length);
        for (const n of seg.asns) this.u32(n);
      }
    }
    if (a.nextHop !== undefined) {
      this.u8(3);
      this.text(a.nextHop);
    }
    if (a.med !== undefined) {
      this.u8(4);
      this.u32(a.med);
    }
    if (a.localPref !== undefined) {
      this.u8(5);
      this.u32(a.localPref);
    }
    if (a.atomicAggregate) this.u8(6);
    if (a.aggregator) {
      this.u8(7);
      this.u32(a.aggregator.asn);
      this.text(a.aggregator.address);
    }
    if (a.communities && a.communities.length > 0) {
      this.u8(8);
      this.u32(a.communities.length);
      for (const c of a.communities) this.u32(c);
    }
    if (a.extendedCommunities && a.extendedCommunities.length > 0) {
      this.u8(16);
      this.u32(a.extendedCommunities.length);
      for (const e of a.extendedCommunities) this.sizedBytes(e);
    }
    if (a.largeCommunities && a.largeCommunities.length > 0) {
      this.u8(32);
      this.u32(a.largeCommunities.length);
      for (const l of a.largeCommunities) {
        this.u32(l.global);
        this.u32(l.local1);
        this.u32(l.local2);
      }
    }
    if (a.originatorId !== undefined) {
      this.u8(9);
      this.text(a.originatorId);
    }
    if (a.clusterList && a.clusterList.length > 0) {
      this.u8(10);
      this.u32(a.clusterList.length);
      for (const c of a.clusterList) this.text(c);
    }
    if (a.unknown && a.unknown.length > 0) {
      this.u8(255);
      this.u32(a.unknown.length);
      for (const u of a.unknown) {
        this.u8(u.code);
        this.u8(u.flags);
        this.sizedBytes(u.value);
      }
    }
    return this.pos;
  }
}

function hashBytes(b: Uint8Array, n: number): number {
  let h = 0x811c9dc5 ^ n;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}

const writer = new CanonicalWriter(512);

/**
 * The registry of interned attribute sets, shared by all peers and tables of a speaker. `intern`
 * returns the one AttrSet for equal attributes and adds a reference; `release` drops one, and the
 * set is forgotten when none remain. Sets are found by a 32-bit hash of their canonical bytes in an
 * open-addressing table of ids, equality checked against the bytes kept in one arena: no key
 * strings, no Map entries.
 */
export class AttrSetRegistry {
  private readonly byId: (AttrSet | undefined)[] = [undefined];
  private readonly freeIds: number[] = [];
  private count = 0;
  /** Decision fields and reference counts by id (AttrSet's getters read them). */
  fields: AttrFields = newFields(64);
  // canonical bytes by id: [offset, length) in the arena, and their hash
  private byteOff = new Int32Array(64);
  private byteLen = new Int32Array(64);
  private hashOf = new Int32Array(64);
  private arena = new Uint8Array(4096);
  private arenaUsed = 0;
  private arenaDead = 0;
  /** Hash table: set id per bucket, 0 when empty; linear probing, backward-shift deletion. */
  private table = new Int32Array(128);

  get size(): number {
    return this.count;
  }

  /** Interns `attrs` and takes `count` references on the result (default 1). */
  intern(attrs: PathAttributes, count = 1): AttrSet {
    const n = writer.write(attrs);
    const bytes = writer.buf;
    const h = hashBytes(bytes, n);
    let set = this.findBytes(bytes, n, h);
    if (!set) set = this.add(attrs, bytes, n, h);
    this.fields.refs[set.id]! += count;
    return set;
  }

  /** Looks up an interned set without taking a reference. */
  lookup(attrs: PathAttributes): AttrSet | undefined {
    const n = writer.write(attrs);
    return this.findBytes(writer.buf, n, hashBytes(writer.buf, n));
  }

  get(id: number): AttrSet {
    const s = this.byId[id];
    if (!s) throw new RangeError(`attribute set ${id} is not interned (released too often?)`);
    return s;
  }

  retain(set: AttrSet, count = 1): void {
    this.fields.refs[set.id]! += count;
  }

  release(set: AttrSet, count = 1): void {
    const refs = this.fields.refs;
    const r = refs[set.id]! - count;
    refs[set.id] = r;
    if (r <= 0) {
      if (r < 0) throw new RangeError(`attribute set ${set.id} released more often than retained`);
      this.remove(set);
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

  *values(): IterableIterator<AttrSet> {
    for (const s of this.byId) if (s) yield s;
  }

  /** The cached derived set of `set` for `consumer`: an AttrSet, null (rejected) or undefined (not cached). */
  derivedOf(set: AttrSet, consumer: number): AttrSet | null | undefined {
    if (set.derivedKey === consumer) return set.derivedValue;
    return set.derived?.get(consumer);
  }

  /** Caches `result` (retaining it) as derived from `set` for `consumer`. */
  setDerived(set: AttrSet, consumer: number, result: AttrSet | null): void {
    // a set derived from itself holds no reference (it would keep itself alive)
    if (result && result !== set) this.fields.refs[result.id]!++;
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
    for (const set of this.values()) {
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

  // ---- internals ----

  private findBytes(bytes: Uint8Array, n: number, h: number): AttrSet | undefined {
    const table = this.table;
    const mask = table.length - 1;
    const arena = this.arena;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = table[i]!;
      if (id === 0) return undefined;
      if (this.hashOf[id] !== h || this.byteLen[id] !== n) continue;
      const off = this.byteOff[id]!;
      let j = 0;
      while (j < n && arena[off + j] === bytes[j]) j++;
      if (j === n) return this.byId[id];
    }
  }

  private add(attrs: PathAttributes, bytes: Uint8Array, n: number, h: number): AttrSet {
    const id = this.freeIds.pop() ?? this.byId.length;
    if (id >= this.hashOf.length) this.growIds(this.hashOf.length * 2);
    const set = new AttrSet(id, attrs, this);
    this.byId[id] = set;
    this.count++;
    // canonical bytes into the arena
    if (this.arenaUsed + n > this.arena.length) this.compactArena(n);
    this.arena.set(bytes.subarray(0, n), this.arenaUsed);
    this.byteOff[id] = this.arenaUsed;
    this.byteLen[id] = n;
    this.hashOf[id] = h;
    this.arenaUsed += n;
    // decision fields
    const f = this.fields;
    f.refs[id] = 0;
    f.localPref[id] = attrs.localPref ?? -1;
    f.asPathLength[id] = asPathLength(attrs.asPath);
    f.origin[id] = attrs.origin ?? 2;
    f.med[id] = attrs.med ?? -1;
    f.neighborAs[id] = neighborAs(attrs.asPath);
    f.originatorId[id] = attrs.originatorId !== undefined ? (parseIpv4(attrs.originatorId) ?? 0) : 0;
    f.clusterListLength[id] = attrs.clusterList?.length ?? 0;
    let wk = 0;
    if (attrs.communities) {
      for (const c of attrs.communities) {
        if (c === WellKnownCommunity.NO_EXPORT) wk |= CommunityFlag.NO_EXPORT;
        else if (c === WellKnownCommunity.NO_ADVERTISE) wk |= CommunityFlag.NO_ADVERTISE;
        else if (c === WellKnownCommunity.NO_EXPORT_SUBCONFED) wk |= CommunityFlag.NO_EXPORT_SUBCONFED;
      }
    }
    f.wellKnown[id] = wk;
    // hash table, kept at most half full
    if ((this.count + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    const table = this.table;
    const mask = table.length - 1;
    let i = h & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = id;
    return set;
  }

  private remove(set: AttrSet): void {
    const id = set.id;
    const table = this.table;
    const mask = table.length - 1;
    let i = this.hashOf[id]! & mask;
    while (table[i] !== id) {
      if (table[i] === 0) throw new RangeError(`attribute set ${id} is not in the registry table`);
      i = (i + 1) & mask;
    }
    // backward-shift deletion
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const other = table[j]!;
      if (other === 0) break;
      const home = this.hashOf[other]! & mask;
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        table[i] = other;
        i = j;
      }
    }
    table[i] = 0;
    this.arenaDead += this.byteLen[id]!;
    this.byteLen[id] = 0;
    this.byId[id] = undefined;
    this.freeIds.push(id);
    this.count--;
  }

  private growIds(cap: number): void {
    this.fields = growFields(this.fields, cap);
    const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.byteOff = grow(this.byteOff);
    this.byteLen = grow(this.byteLen);
    this.hashOf = grow(this.hashOf);
  }

  private rehash(size: number): void {
    const table = new Int32Array(size);
    const mask = size - 1;
    for (const id of this.table) {
      if (id === 0) continue;
      let i = this.hashOf[id]! & mask;
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = id;
    }
    this.table = table;
  }

  /** Makes room for `need` more bytes: drops the bytes of released sets, grows when still short. */
  private compactArena(need: number): void {
    const live = this.arenaUsed - this.arenaDead;
    let size = this.arena.length;
    while ((live + need) * 4 > size * 3) size *= 2;
    if (this.arenaDead * 4 < live) {
      // little to reclaim (a table being loaded): grow, keeping offsets
      const grown = new Uint8Array(Math.max(size, this.arena.length * 2));
      grown.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = grown;
      return;
    }
    const arena = new Uint8Array(size);
    let used = 0;
    for (let id = 1; id < this.byId.length; id++) {
      if (!this.byId[id]) continue;
      const off = this.byteOff[id]!;
      const len = this.byteLen[id]!;
      arena.set(this.arena.subarray(off, off + len), used);
      this.byteOff[id] = used;
      used += len;
    }
    this.arena = arena;
    this.arenaUsed = used;
    this.arenaDead = 0;
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
