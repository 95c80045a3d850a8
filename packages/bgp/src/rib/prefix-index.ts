// Prefix key -> dense slot number. Every per-prefix datum of the RIBs lives in typed arrays indexed
// by slot, so a prefix costs a few bytes per table and no JS object. IPv4 keys sit in an
// open-addressing hash table (linear probing, backward-shift deletion) over typed arrays; IPv6 keys
// in a Map. Slots are reference counted by their users (Loc-RIB candidates, Adj-RIB-Out entries,
// pending queues) and recycled when the count drops to zero.

import type { PrefixKey } from './prefix.js';

const EMPTY = -1;
/** Slot capacity below which slots grow fourfold instead of twofold. */
const GROW_FAST_BELOW = 1 << 18;

function hashV4(key: number): number {
  let h = Math.imul((key >>> 0) ^ Math.imul((key / 4294967296) | 0, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 13;
  return h;
}

export class PrefixIndex {
  /**
   * Hash table, two Int32 per bucket: the slot number (EMPTY when free) and the key's full 32-bit
   * hash. Probing compares hashes in the table itself and reads the key array only on a hash
   * match; deletion and rehashing never read keys (a bucket's home comes from its stored hash).
   */
  private table: Int32Array;
  /** Bucket count - 1 (bucket i lives at table[2i], table[2i + 1]). */
  private mask: number;
  private v4Count = 0;
  private readonly v6 = new Map<string, number>();

  /** Per slot: the IPv4 key (NaN for an IPv6 slot or a free slot). */
  private keyNum: Float64Array;
  private readonly keyStr = new Map<number, string>();
  private refs: Int32Array;
  private capacity: number;
  private used = 0;
  private freeList: number[] = [];
  private readonly growHandlers: ((capacity: number) => void)[] = [];

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.capacity = cap;
    this.keyNum = new Float64Array(cap).fill(Number.NaN);
    this.refs = new Int32Array(cap);
    this.table = new Int32Array(cap * 4).fill(EMPTY);
    this.mask = cap * 2 - 1;
  }

  /** Number of live slots. */
  get size(): number {
    return this.used - this.freeList.length;
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
    const h = hashV4(key);
    let i = h & mask;
    for (;;) {
      const s = table[2 * i]!;
      if (s === EMPTY) return -1;
      if (table[2 * i + 1] === h && this.keyNum[s] === key) return s;
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
    const h = hashV4(key);
    let i = h & mask;
    for (;;) {
      const s = table[2 * i]!;
      if (s === EMPTY) break;
      if (table[2 * i + 1] === h && this.keyNum[s] === key) return s;
      i = (i + 1) & mask;
    }
    const slot = this.allocSlot();
    this.keyNum[slot] = key;
    if ((this.v4Count + 1) * 2 > mask + 1) {
      this.rehash((mask + 1) * 2);
      table = this.table;
      mask = this.mask;
      i = h & mask;
      while (table[2 * i] !== EMPTY) i = (i + 1) & mask;
    }
    table[2 * i] = slot;
    table[2 * i + 1] = h;
    this.v4Count++;
    return slot;
  }

  keyOf(slot: number): PrefixKey {
    const n = this.keyNum[slot]!;
    if (!Number.isNaN(n)) return n;
    const s = this.keyStr.get(slot);
    if (s === undefined) throw new RangeError(`prefix slot ${slot} is not in use`);
    return s;
  }

  /** The IPv4 key of `slot` (NaN for an IPv6 or free slot); no checks, for hot loops. */
  v4KeyOf(slot: number): number {
    return this.keyNum[slot]!;
  }

  isV4(slot: number): boolean {
    const n = this.keyNum[slot]!;
    return !Number.isNaN(n);
  }

  ref(slot: number): void {
    this.refs[slot]!++;
  }

  unref(slot: number): void {
    const r = --this.refs[slot]!;
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
    const reused = this.freeList.pop();
    if (reused !== undefined) return reused;
    // grow by 4 while small (fewer copies and rehashes on a table load), by 2 when large
    if (this.used === this.capacity) this.growSlots(this.capacity * (this.capacity < GROW_FAST_BELOW ? 4 : 2));
    return this.used++;
  }

  private growSlots(cap: number): void {
    const k = new Float64Array(cap);
    k.set(this.keyNum);
    k.fill(Number.NaN, this.keyNum.length);
    this.keyNum = k;
    const r = new Int32Array(cap);
    r.set(this.refs);
    this.refs = r;
    this.capacity = cap;
    for (const h of this.growHandlers) h(cap);
  }

  private rehash(buckets: number): void {
    const table = new Int32Array(buckets * 2).fill(EMPTY);
    const mask = buckets - 1;
    const old = this.table;
    for (let j = 0; j < old.length; j += 2) {
      const s = old[j]!;
      if (s === EMPTY) continue;
      const h = old[j + 1]!;
      let i = h & mask;
      while (table[2 * i] !== EMPTY) i = (i + 1) & mask;
      table[2 * i] = s;
      table[2 * i + 1] = h;
    }
    this.table = table;
    this.mask = mask;
  }

  private release(slot: number): void {
    const n = this.keyNum[slot]!;
    if (!Number.isNaN(n)) {
      this.deleteV4(n, slot);
      this.keyNum[slot] = Number.NaN;
    } else {
      const s = this.keyStr.get(slot);
      if (s !== undefined) {
        this.v6.delete(s);
        this.keyStr.delete(slot);
      }
    }
    this.freeList.push(slot);
  }

  private deleteV4(key: number, slot: number): void {
    const table = this.table;
    const mask = this.mask;
    let i = hashV4(key) & mask;
    for (;;) {
      const s = table[2 * i]!;
      if (s === EMPTY) return;
      if (s === slot) break;
      i = (i + 1) & mask;
    }
    // backward-shift deletion keeps probe sequences intact without tombstones; a bucket's home
    // comes from the hash stored beside it, so no key is read
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const s = table[2 * j]!;
      if (s === EMPTY) break;
      const h = table[2 * j + 1]!;
      const home = h & mask;
      // move s into the hole at i when its home is not cyclically in (i, j]
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        table[2 * i] = s;
        table[2 * i + 1] = h;
        i = j;
      }
    }
    table[2 * i] = EMPTY;
    this.v4Count--;
  }
}

/** Grows an Int32Array to `cap`, keeping contents, filling the new tail with `fill`. */
export function growInt32(a: Int32Array, cap: number, fill = 0): Int32Array {
  const b = new Int32Array(cap);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

export function growUint8(a: Uint8Array, cap: number): Uint8Array {
  const b = new Uint8Array(cap);
  b.set(a);
  return b;
}
