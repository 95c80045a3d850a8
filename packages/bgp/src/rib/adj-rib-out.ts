// Adj-RIB-Out of one peer: what has been advertised (one attribute-set id per prefix slot, 4 bytes)
// and what must be looked at again (a dirty queue fed by the Loc-RIB's change events). Nothing is
// computed when the Loc-RIB changes; `takeBatches()` compares, per dirty prefix, the current
// export result with what was sent, so a change that is undone before the flush sends nothing.
// Export results are cached per (attribute set, source peer), so an unchanged route shares the
// interned set instead of copying anything per prefix.

import type { Family, PathAttributes } from '../wire/types.js';
import type { AttrSet } from './attrs.js';
import type { LocRib } from './loc-rib.js';
import type { RibPeer } from './peer.js';
import type { PrefixKey } from './prefix.js';
import { allocInt32, allocUint8, growInt32, growUint8 } from './prefix-index.js';

/** Computes what to send to one peer for a best route. Built by `policy/` (`createExporter`). */
export interface Exporter {
  /** True when results depend on the prefix; they are then computed per prefix, not cached. */
  readonly prefixDependent: boolean;
  /** Attributes to send for the best route at `key` learned from `from`, or null to not advertise it. */
  exportRoute(from: RibPeer, attrSet: AttrSet, key: PrefixKey): PathAttributes | null;
}

/** One unit for the codec's packer: prefixes sharing one attribute set, or withdrawals. */
export interface OutBatch {
  readonly family: Family;
  /** The attributes of `announced`; null for a withdrawal batch. */
  readonly attrSet: AttrSet | null;
  /** Announced prefix keys (numbers for IPv4, strings for IPv6); empty in a withdrawal batch. */
  readonly announced: readonly PrefixKey[];
  /** Withdrawn prefix keys; empty in an announcement batch. */
  readonly withdrawn: readonly PrefixKey[];
}

export interface AdjRibOutOptions {
  /** Families negotiated with the peer (default both). */
  readonly families?: readonly Family[];
  /** Split batches above this many prefixes (default: no limit; the packer splits by size anyway). */
  readonly maxPrefixesPerBatch?: number;
}

let nextConsumer = 1;

/**
 * An array for `n` elements written in index order, allocated once at its size. (Node 20's V8 keeps
 * `new Array(n)` in fast holey elements at a million too; growing `[]` instead allocated about
 * three times the final size in large-object space per batch, and each such allocation pushes the
 * small old generation towards a full collection.)
 */
function sized(n: number): number[] {
  return new Array(n);
}

/** takeBatches' per-call outcome array, shared by all Adj-RIBs-Out (takeBatches is synchronous). */
let outcomeScratch = allocInt32(1024);

/** What takeBatches' pass 1 leaves for the rest. */
interface Decided {
  wd4: number[] | null;
  wd4n: number;
  readonly wd6: string[];
  readonly groupCount: Map<number, number>;
  readonly groups6: Map<number, string[]>;
}

export class AdjRibOut {
  readonly rib: LocRib;
  readonly peer: RibPeer;
  private exporter: Exporter;
  private readonly v4: boolean;
  private readonly v6: boolean;
  private readonly maxPer: number;
  private consumer: number;
  private adv: Int32Array;
  private dirty: Uint8Array;
  /** Dirty slots, in order (each holds a prefix reference until takeBatches). */
  private queue: Int32Array = new Int32Array(64);
  private queueLength = 0;
  private advertisedCount = 0;
  private readonly unsubscribe: () => void;

  constructor(rib: LocRib, peer: RibPeer, exporter: Exporter, options: AdjRibOutOptions = {}) {
    this.rib = rib;
    this.peer = peer;
    this.exporter = exporter;
    const fams = options.families ?? ['ipv4-unicast', 'ipv6-unicast'];
    this.v4 = fams.includes('ipv4-unicast');
    this.v6 = fams.includes('ipv6-unicast');
    this.maxPer = options.maxPrefixesPerBatch ?? Number.POSITIVE_INFINITY;
    this.consumer = nextConsumer++ * 65536;
    const cap = rib.prefixes.slotCapacity;
    this.adv = allocInt32(cap);
    this.dirty = allocUint8(cap);
    rib.prefixes.onGrow((c) => {
      this.adv = growInt32(this.adv, c);
      this.dirty = growUint8(this.dirty, c);
    });
    this.unsubscribe = rib.onChange((slots) => this.markSlots(slots));
  }

  /** Prefixes currently advertised to the peer. */
  get size(): number {
    return this.advertisedCount;
  }

  /** Prefixes waiting for `takeBatches()`. */
  get pendingCount(): number {
    return this.queueLength;
  }

  /** The attribute set last sent for `key`, if it is advertised. */
  advertised(key: PrefixKey): AttrSet | undefined {
    const slot = this.rib.prefixes.find(key);
    if (slot < 0) return undefined;
    const id = this.adv[slot]!;
    return id ? this.rib.registry.get(id) : undefined;
  }

  /** Every advertised prefix with its attributes. */
  *entries(): IterableIterator<[PrefixKey, AttrSet]> {
    const reg = this.rib.registry;
    for (const slot of this.rib.prefixes.slots()) {
      const id = this.adv[slot]!;
      if (id) yield [this.rib.prefixes.keyOf(slot), reg.get(id)];
    }
  }

  /** Queues every best route (session established, route refresh, policy change). */
  markAll(): void {
    for (const slot of this.rib.bestSlots()) this.mark(slot);
    // advertised prefixes without a best route any more are queued by change events already
  }

  /** Replaces the export rules and re-evaluates everything (what is unchanged is not re-sent). */
  setExporter(exporter: Exporter): void {
    this.rib.registry.clearDerived(this.consumer, this.consumer + 65536);
    this.consumer = nextConsumer++ * 65536;
    this.exporter = exporter;
    for (const slot of this.rib.prefixes.slots()) if (this.adv[slot]) this.mark(slot);
    this.markAll();
  }

  /** Forgets everything advertised (session down); the next session starts with `markAll()`. */
  reset(): void {
    const reg = this.rib.registry;
    const prefixes = this.rib.prefixes;
    const queue = this.queue;
    const ql = this.queueLength;
    this.queueLength = 0;
    for (let q = 0; q < ql; q++) {
      const slot = queue[q]!;
      this.dirty[slot] = 0;
      prefixes.unref(slot);
    }
    for (let slot = 0; slot < prefixes.highWater; slot++) {
      const id = this.adv[slot]!;
      if (!id) continue;
      this.adv[slot] = 0;
      reg.releaseId(id);
      prefixes.unref(slot);
    }
    this.advertisedCount = 0;
    reg.clearDerived(this.consumer, this.consumer + 65536);
  }

  /** Stops following the Loc-RIB and releases everything. */
  close(): void {
    this.unsubscribe();
    this.reset();
  }

  /**
   * Computes what changed since the last call and returns it packed: withdrawals first (one batch
   * per family), then one batch per (family, attribute set). Prefixes whose outcome equals what was
   * sent are left out.
   */
  takeBatches(): OutBatch[] {
    const reg = this.rib.registry;
    const queue = this.queue;
    const ql = this.queueLength;
    this.queueLength = 0;
    // pass 1 decides per queued slot and records the outcome here: -1 nothing to send, -3 an IPv4
    // withdrawal (finished in pass 1), > 0 an IPv4 announcement with that set, -2 IPv6 (handled in
    // pass 1); pass 2 then fills arrays of exact size (no growing arrays for a million prefixes).
    // Each pass is a method of its own: V8 compiles a hot loop on its own (on-stack replacement),
    // and with both loops in one large function the compiled code was thrown away on reaching code
    // that had not run yet (after the loop, a branch first taken), several times per call.
    if (outcomeScratch.length < ql) outcomeScratch = growInt32(outcomeScratch, Math.max(ql, outcomeScratch.length * 2));
    const outcome = outcomeScratch;
    const d: Decided = { wd4: null, wd4n: 0, wd6: [], groupCount: new Map(), groups6: new Map() };
    this.decide(ql, outcome, d);
    const wd4 = d.wd4;
    if (wd4 !== null) wd4.length = d.wd4n; // shrinking trims in place
    // nothing but IPv4 withdrawals (a peer went away): pass 2 has nothing to do
    const groups4 =
      d.wd4n === ql ? new Map<number, { keys: number[]; n: number }>() : this.collect(ql, outcome, d.groupCount);
    const wd6 = d.wd6;
    const groups6 = d.groups6;
    if (queue.length > 65536 && ql > 0) {
      // a table dump grew the queue: do not keep megabytes for the odd change
      this.queue = new Int32Array(1024);
    }
    const out: OutBatch[] = [];
    const max = this.maxPer;
    const push = (family: Family, attrSet: AttrSet | null, keys: PrefixKey[]): void => {
      if (keys.length === 0) return;
      if (keys.length <= max) {
        out.push(
          attrSet
            ? { family, attrSet, announced: keys, withdrawn: [] }
            : { family, attrSet, announced: [], withdrawn: keys },
        );
        return;
      }
      for (let i = 0; i < keys.length; i += max) push(family, attrSet, keys.slice(i, i + max));
    };
    if (wd4 !== null) push('ipv4-unicast', null, wd4);
    push('ipv6-unicast', null, wd6);
    for (const [id, grp] of groups4) push('ipv4-unicast', reg.get(id), grp.keys);
    for (const [id, keys] of groups6) push('ipv6-unicast', reg.get(id), keys);
    if (outcomeScratch.length > 65536) outcomeScratch = allocInt32(1024);
    return out;
  }

  /** takeBatches' pass 1 (see there). */
  private decide(ql: number, outcome: Int32Array, d: Decided): void {
    const rib = this.rib;
    const reg = rib.registry;
    const prefixes = rib.prefixes;
    const exporter = this.exporter;
    const cached = !exporter.prefixDependent;
    const queue = this.queue;
    // IPv4 withdrawn keys, written here into an array allocated at the first withdrawal for the
    // rest of the queue and trimmed after (no scratch to copy from, nothing that grows)
    let wd4: number[] | null = null;
    let wd4n = 0;
    const groupCount = d.groupCount;
    const groups6 = d.groups6;
    const wd6 = d.wd6;
    const self = this.peer.index;
    let memoIn = -1;
    let memoFrom = -1;
    let memoOut = 0;
    let memoV4 = true;
    let countId = 0;
    let countN = 0;
    // references on advertised sets are counted per run of equal ids and applied in bulk
    let refId = 0;
    let refCount = 0;
    let relId = 0;
    let relCount = 0;
    const dirty = this.dirty;
    const adv = this.adv;
    for (let q = 0; q < ql; q++) {
      const slot = queue[q]!;
      dirty[slot] = 0;
      const isV4 = prefixes.isV4(slot);
      let desired = 0;
      const node = rib.bestNodeAt(slot);
      if (node >= 0 && (isV4 ? this.v4 : this.v6)) {
        const from = rib.nodePeer(node);
        if (from !== self) {
          const inId = rib.nodeAttr(node);
          if (cached && inId === memoIn && from === memoFrom && isV4 === memoV4) desired = memoOut;
          else {
            const inSet = reg.get(inId);
            const fromPeer = rib.peer(from)!;
            if (cached) {
              const ck = this.consumer + from * 2 + (isV4 ? 0 : 1);
              let out = reg.derivedOf(inSet, ck);
              if (out === undefined) {
                const attrs = exporter.exportRoute(fromPeer, inSet, prefixes.keyOf(slot));
                out = attrs === null ? null : attrs === inSet.attrs ? inSet : reg.intern(attrs, 0);
                reg.setDerived(inSet, ck, out);
              }
              desired = out ? out.id : 0;
              memoIn = inId;
              memoFrom = from;
              memoV4 = isV4;
              memoOut = desired;
            } else {
              const attrs = exporter.exportRoute(fromPeer, inSet, prefixes.keyOf(slot));
              desired = attrs === null ? 0 : attrs === inSet.attrs ? inSet.id : reg.intern(attrs, 0).id;
            }
          }
        }
      }
      const cur = adv[slot]!;
      if (desired === cur) {
        outcome[q] = -1;
        continue;
      }
      if (desired) {
        if (desired !== refId) {
          if (refCount) reg.get(refId).refs += refCount;
          refId = desired;
          refCount = 0;
        }
        refCount++;
        if (isV4) {
          if (desired !== countId) {
            if (countN) groupCount.set(countId, (groupCount.get(countId) ?? 0) + countN);
            countId = desired;
            countN = 0;
          }
          countN++;
          outcome[q] = desired;
        } else {
          let g = groups6.get(desired);
          if (!g) {
            g = [];
            groups6.set(desired, g);
          }
          g.push(prefixes.keyOf(slot) as string);
          outcome[q] = -2;
        }
        if (!cur) {
          prefixes.ref(slot);
          this.advertisedCount++;
        }
      } else {
        if (isV4) {
          // a withdrawal is finished here (one pass): its key is read while the slot still holds
          // it, then the Adj-RIB-Out's and the queue's references go together
          if (wd4 === null) wd4 = sized(ql - q);
          wd4[wd4n++] = prefixes.v4KeyOf(slot);
          prefixes.unref(slot, 2);
          outcome[q] = -3;
        } else {
          wd6.push(prefixes.keyOf(slot) as string);
          outcome[q] = -2;
        }
        this.advertisedCount--;
      }
      adv[slot] = desired;
      if (cur) {
        if (cur !== relId) {
          // pending takes first, so a release never frees a set about to be taken
          if (refCount) {
            reg.get(refId).refs += refCount;
            refCount = 0;
          }
          if (relCount) reg.releaseId(relId, relCount);
          relId = cur;
          relCount = 0;
        }
        relCount++;
      }
    }
    if (countN) groupCount.set(countId, (groupCount.get(countId) ?? 0) + countN);
    if (refCount) reg.get(refId).refs += refCount;
    if (relCount) reg.releaseId(relId, relCount);
    d.wd4 = wd4;
    d.wd4n = wd4n;
  }

  /** takeBatches' pass 2: announced keys into exact-size arrays, then the queue's references go. */
  private collect(
    ql: number,
    outcome: Int32Array,
    groupCount: Map<number, number>,
  ): Map<number, { keys: number[]; n: number }> {
    const prefixes = this.rib.prefixes;
    const queue = this.queue;
    const adv = this.adv;
    const groups4 = new Map<number, { keys: number[]; n: number }>();
    for (const [id, n] of groupCount) groups4.set(id, { keys: sized(n), n: 0 });
    let gId = 0;
    let g: { keys: number[]; n: number } | undefined;
    for (let q = 0; q < ql; q++) {
      const slot = queue[q]!;
      const o = outcome[q]!;
      if (o === -3) continue; // an IPv4 withdrawal, done in pass 1
      if (o > 0) {
        if (o !== gId) {
          gId = o;
          g = groups4.get(o)!;
        }
        g!.keys[g!.n++] = prefixes.v4KeyOf(slot);
      } else if (o === -2 && adv[slot] === 0) prefixes.unref(slot); // IPv6 withdrawal
      prefixes.unref(slot); // the queue's reference
    }
    return groups4;
  }

  private markSlots(slots: readonly number[]): void {
    const rib = this.rib;
    const self = this.peer.index;
    const dirty = this.dirty;
    const adv = this.adv;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (dirty[slot]) continue;
      if (!adv[slot]) {
        // nothing advertised: only a best route that may go to this peer needs a look. Split
        // horizon: a route learned from this peer never goes back to it.
        const node = rib.bestNodeAt(slot);
        if (node < 0 || rib.nodePeer(node) === self) continue;
      }
      this.mark(slot);
    }
  }

  private mark(slot: number): void {
    if (this.dirty[slot]) return;
    this.dirty[slot] = 1;
    if (this.queueLength === this.queue.length) {
      const q = new Int32Array(this.queue.length * 2);
      q.set(this.queue);
      this.queue = q;
    }
    this.queue[this.queueLength++] = slot;
    this.rib.prefixes.ref(slot);
  }
}
