// Prefix key -> dense slot number. Every per-prefix datum of the RIBs lives in typed arrays indexed
// by slot, so a prefix costs a few bytes per table and no JS object. IPv4 keys sit in an
// open-addressing hash table (linear probing, tombstones purged by rehashing) over typed arrays; IPv6 keys
// in a Map. Slots are reference counted by their users (Loc-RIB candidates, Adj-RIB-Out entries,
// pending queues) and recycled when the count drops to zero.

import type { PrefixKey } from './prefix.js';

const EMPTY = -1;
/** keyLen of a slot that holds no IPv4 prefix. */
const NOT_V4 = 255;
/** A deleted bucket: probes go on past it, inserts reuse it. Its low 6 bits (62) match no length. */
const TOMB = -2;
/** Slot capacity below which slots grow fourfold instead of twofold. */
const GROW_FAST_BELOW = 1 << 16;

/** Most slots: a bucket packs slot * 64 + prefix length into one Int32. */
const MAX_SLOTS = 1 << 25;

/**
 * Home bucket (before masking) of an IPv4 prefix (address as uint32, length 0..32). Runs
 * of 16 prefixes of one length that are adjacent in address space (network numbers n..n+15 with
 * the same n >> 4) get adjacent buckets from one hashed base: a feed in address order (as routers
 * send their tables) touches one cache line and page per run instead of one per prefix; scattered
 * prefixes hash as well as with a plain hash (murmur3's finalizer on the run number and length).
 */
function homeV4(addr: number, len: number): number {
  const n = len === 0 ? 0 : addr >>> (32 - len);
  let h = (n >>> 4) ^ Math.imul(len + 1, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h + (n & 15);
}

export class PrefixIndex {
  /**
   * Hash table, one Int32 per bucket: slot * 64 + prefix length (EMPTY when free, TOMB when
   * deleted). A probe compares the length from the bucket, then the address in the per-slot key
   * array; slots are handed out in arrival order, so a feed in address order reads both arrays
   * sequentially. (Keeping the address in the bucket as well cost 8 more bytes per prefix.)
   */
  private table: Int32Array;
  /** Bucket count - 1. */
  private mask: number;
  private v4Count = 0;
  private tombs = 0;
  private readonly v6 = new Map<string, number>();

  /** Per slot: the IPv4 address, and its prefix length (NOT_V4 for an IPv6 or free slot): 5 bytes. */
  private keyAddr: Uint32Array;
  private keyLen: Uint8Array;
  private readonly keyStr = new Map<number, string>();
  private refs: Int32Array;
  private capacity: number;
  private used = 0;
  /** Free slots, a stack linked through keyAddr (a free slot has no key): no array to grow. */
  private freeHead = -1;
  private freeCount = 0;
  private readonly growHandlers: ((capacity: number) => void)[] = [];

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.capacity = cap;
    this.keyAddr = allocUint32(cap);
    this.keyLen = allocUint8(cap, NOT_V4);
    this.refs = allocInt32(cap);
    this.table = new Int32Array(cap * 2).fill(EMPTY);
    this.mask = cap * 2 - 1;
  }

  /** Number of live slots. */
  get size(): number {
    return this.used - this.freeCount;
  }

  /** Slot capacity: every slot number is below it. */
  get slotCapacity(): number {
    return this.capacity;
  }

  /** Called with the new capacity whenever slots grow, so per-slot arrays can follow. */
  onGrow(handler: (capacity: number) => void): void {
    this.growHandlers.push(handler);
  }

  /** The slot of `key`, or -1. */
  find(key: PrefixKey): number {
    if (typeof key === 'string') return this.v6.get(key) ?? -1;
    const table = this.table;
    const mask = this.mask;
    // key = addr * 64 + len with addr < 2^32: truncation gives the address (no floating modulo)
    const a32 = (key / 64) >>> 0;
    const len = key - a32 * 64;
    const keyAddr = this.keyAddr;
    let i = homeV4(a32, len) & mask;
    for (;;) {
      const t = table[i]!;
      if (t === EMPTY) return -1;
      if ((t & 63) === len && keyAddr[t >> 6] === a32) return t >> 6;
      i = (i + 1) & mask;
    }
  }

  /** The slot of `key`, creating it (with zero references) when absent. */
  intern(key: PrefixKey): number {
    if (typeof key === 'string') {
      const s = this.v6.get(key);
      if (s !== undefined) return s;
      const slot = this.allocSlot();
      this.v6.set(key, slot);
      this.keyStr.set(slot, key);
      return slot;
    }
    let table = this.table;
    let mask = this.mask;
    // key = addr * 64 + len with addr < 2^32: truncation gives the address (no floating modulo)
    const a32 = (key / 64) >>> 0;
    const len = key - a32 * 64;
    const h = homeV4(a32, len);
    let i = h & mask;
    let tomb = -1;
    const keyAddr = this.keyAddr;
    for (;;) {
      const t = table[i]!;
      if (t === EMPTY) break;
      if ((t & 63) === len && keyAddr[t >> 6] === a32) return t >> 6;
      if (t === TOMB && tomb < 0) tomb = i;
      i = (i + 1) & mask;
    }
    const slot = this.allocSlot();
    if (slot >= MAX_SLOTS) {
      this.pushFree(slot);
      throw new RangeError(`prefix index full: more than ${MAX_SLOTS} prefixes`);
    }
    this.keyAddr[slot] = a32;
    this.keyLen[slot] = len;
    if (tomb >= 0) {
      i = tomb;
      this.tombs--;
    } else if ((this.v4Count + 1) * 2 > mask + 1 || (this.v4Count + this.tombs + 1) * 4 > (mask + 1) * 3) {
      // at half full grow; when tombstones crowd the table, rebuild it at the same size
      this.rehash((this.v4Count + 1) * 2 > mask + 1 ? (mask + 1) * 2 : mask + 1);
      table = this.table;
      mask = this.mask;
      i = h & mask;
      while (table[i] !== EMPTY) i = (i + 1) & mask;
    }
    table[i] = slot * 64 + len;
    this.v4Count++;
    return slot;
  }

  keyOf(slot: number): PrefixKey {
    const len = this.keyLen[slot]!;
    if (len !== NOT_V4) return this.keyAddr[slot]! * 64 + len;
    const s = this.keyStr.get(slot);
    if (s === undefined) throw new RangeError(`prefix slot ${slot} is not in use`);
    return s;
  }

  /** The IPv4 key of `slot` (NaN for an IPv6 or free slot); no checks, for hot loops. */
  v4KeyOf(slot: number): number {
    const len = this.keyLen[slot]!;
    return len === NOT_V4 ? Number.NaN : this.keyAddr[slot]! * 64 + len;
  }

  isV4(slot: number): boolean {
    return this.keyLen[slot] !== NOT_V4;
  }

  ref(slot: number): void {
    this.refs[slot]!++;
  }

  /** Drops `count` references (default 1); the slot is released when none remain. */
  unref(slot: number, count = 1): void {
    const r = this.refs[slot]! - count;
    this.refs[slot] = r;
    if (r === 0) this.release(slot);
  }

  refCount(slot: number): number {
    return this.refs[slot]!;
  }

  /** Releases a slot that was interned but never referenced. */
  releaseIfUnused(slot: number): void {
    if (this.refs[slot] === 0) this.release(slot);
  }

  /** Live slots, in slot order. */
  *slots(): IterableIterator<number> {
    for (let s = 0; s < this.used; s++) if (this.refs[s]! > 0) yield s;
  }

  /** Upper bound (exclusive) of slot numbers ever handed out. */
  get highWater(): number {
    return this.used;
  }

  private allocSlot(): number {
    if (this.freeHead >= 0) {
      const s = this.freeHead;
      this.freeHead = this.keyAddr[s]! === 0xffffffff ? -1 : this.keyAddr[s]!;
      this.freeCount--;
      return s;
    }
    // grow by 4 while small (fewer copies and rehashes on a table load), by 2 when large
    if (this.used === this.capacity) this.growSlots(this.capacity * (this.capacity < GROW_FAST_BELOW ? 4 : 2));
    return this.used++;
  }

  private growSlots(cap: number): void {
    this.keyAddr = growUint32(this.keyAddr, cap);
    this.keyLen = growUint8(this.keyLen, cap, NOT_V4);
    this.refs = growInt32(this.refs, cap);
    this.capacity = cap;
    for (const h of this.growHandlers) h(cap);
  }

  private rehash(buckets: number): void {
    const table = new Int32Array(buckets).fill(EMPTY);
    const mask = buckets - 1;
    const old = this.table;
    const keyAddr = this.keyAddr;
    for (let j = 0; j < old.length; j++) {
      const t = old[j]!;
      if (t < 0) continue; // empty or deleted
      let i = homeV4(keyAddr[t >> 6]!, t & 63) & mask;
      while (table[i] !== EMPTY) i = (i + 1) & mask;
      table[i] = t;
    }
    this.table = table;
    this.mask = mask;
    this.tombs = 0;
  }

  private release(slot: number): void {
    const len = this.keyLen[slot]!;
    if (len !== NOT_V4) {
      this.deleteV4(this.keyAddr[slot]!, len, slot * 64 + len);
      this.keyLen[slot] = NOT_V4;
    } else {
      const s = this.keyStr.get(slot);
      if (s !== undefined) {
        this.v6.delete(s);
        this.keyStr.delete(slot);
      }
    }
    this.pushFree(slot);
  }

  private pushFree(slot: number): void {
    this.keyAddr[slot] = this.freeHead < 0 ? 0xffffffff : this.freeHead;
    this.freeHead = slot;
    this.freeCount++;
  }

  /**
   * Removes the bucket of an IPv4 slot. The bucket holds `slot * 64 + len`, so the probe compares
   * bucket values only: no key reads in the per-slot arrays (a withdrawal of a table in address
   * order passes about 8 buckets of neighbouring runs and tombstones per prefix).
   */
  private deleteV4(a32: number, len: number, bucket: number): void {
    const table = this.table;
    const mask = this.mask;
    let i = homeV4(a32, len) & mask;
    for (;;) {
      const t = table[i]!;
      if (t === bucket) break;
      if (t === EMPTY) return;
      i = (i + 1) & mask;
    }
    // a tombstone keeps the probe sequences through this bucket intact; when the next bucket is
    // empty no sequence runs through it, so it and the tombstones before it become empty
    this.v4Count--;
    if (table[(i + 1) & mask] !== EMPTY) {
      table[i] = TOMB;
      this.tombs++;
      return;
    }
    table[i] = EMPTY;
    for (let j = (i - 1) & mask; table[j] === TOMB; j = (j - 1) & mask) {
      table[j] = EMPTY;
      this.tombs--;
    }
  }
}

// ---- growable typed arrays ----
//
// Plain typed arrays, grown by copying. Resizable ArrayBuffers (ES2024) would grow in place and
// leave no old array for the collector (1M packed prefixes: ~15 bytes/prefix less RSS when loaded,
// peak RSS 161 -> 148 MiB), but Node 20's optimizing compiler does not inline element accesses on
// them: the RIB's hot loops ran 25 to 60% slower (in-process 1M load and withdrawal), so they are
// not used.

/** A growable Int32Array of `cap` elements set to `fill` (see growInt32). */
export function allocInt32(cap: number, fill = 0): Int32Array {
  const a = new Int32Array(cap);
  if (fill !== 0) a.fill(fill);
  return a;
}

export function allocUint32(cap: number): Uint32Array {
  return new Uint32Array(cap);
}

export function allocUint8(cap: number, fill = 0): Uint8Array {
  const a = new Uint8Array(cap);
  if (fill !== 0) a.fill(fill);
  return a;
}

/** Grows an Int32Array to `cap`, keeping contents, filling the new tail with `fill`. */
export function growInt32(a: Int32Array, cap: number, fill = 0): Int32Array {
  const b = new Int32Array(cap);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

export function growUint32(a: Uint32Array, cap: number): Uint32Array {
  const b = new Uint32Array(cap);
  b.set(a);
  return b;
}

export function growUint16(a: Uint16Array, cap: number): Uint16Array {
  const b = new Uint16Array(cap);
  b.set(a);
  return b;
}

export function growUint8(a: Uint8Array, cap: number, fill = 0): Uint8Array {
  const b = new Uint8Array(cap);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}
