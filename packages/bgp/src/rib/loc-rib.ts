// Loc-RIB and the Adj-RIBs-In behind it. Each (prefix, peer) route is a node in a pool of typed
// arrays (peer 2 bytes, attribute set, slot, next 4 each, flags 1: 15 bytes); each prefix slot holds the head of its
// candidate list and its best node. Adj-RIB-In of a peer is the set of nodes carrying its index,
// post import policy. The decision process (RFC 4271 §9.1.2, RFC 4456 §9) runs per changed
// prefix and short-circuits when there is one candidate.

import type { PathAttributes } from '../wire/types.js';
import { AttrSet, AttrSetRegistry } from './attrs.js';
import { type RibPeer, RibPeer as RibPeerClass, type RibPeerConfig, RibPeerConfigError } from './peer.js';
import type { PrefixKey } from './prefix.js';
import { allocInt32, allocUint8, growInt32, growUint8, growUint16, PrefixIndex } from './prefix-index.js';

const STALE = 1;
/** nPeer of a free node; peer indexes stay below it. */
const NO_PEER = 0xffff;
const MULTIPATH = 2;

/** Multipath (ECMP) selection: routes equal through the IGP-cost step, as BIRD and FRR. */
export interface MultipathOptions {
  /** Most paths kept in a set, best first (default 16). */
  readonly maxPaths?: number;
  /**
   * `identical` (FRR's default): only routes whose AS_PATH equals the best one's;
   * `length` (FRR's `as-path multipath-relax`, BIRD): any AS_PATH of the same length.
   */
  readonly asPath?: 'identical' | 'length';
}

export interface DecisionOptions {
  /** LOCAL_PREF assumed for a route without one (default 100). */
  readonly defaultLocalPref?: number;
  /** Compare MED across neighbour ASes (default false: only among routes from the same neighbour AS). */
  readonly alwaysCompareMed?: boolean;
  /** Treat a missing MED as the worst value instead of 0 (RFC 4271 says 0; default false). */
  readonly medMissingAsWorst?: boolean;
  /**
   * IGP cost to a route's next hop; null when the next hop is unresolvable (the route is then not
   * eligible). Default: every next hop costs 0. Results are cached per next hop until
   * `igpChanged()`.
   */
  readonly igpCost?: (nextHop: string | undefined, attrs: PathAttributes) => number | null;
  /** Keep equal-cost best paths as a set. Off by default. */
  readonly multipath?: MultipathOptions | false;
}

export interface LocRibOptions extends DecisionOptions {
  /** Shared attribute set registry (one per speaker). A new one when absent. */
  readonly registry?: AttrSetRegistry;
  /** Shared prefix index (one per speaker). A new one when absent. */
  readonly prefixes?: PrefixIndex;
  /** Initial prefix capacity (grows by doubling). */
  readonly initialCapacity?: number;
}

/** A route as read back from the RIB. Built on demand; the RIB itself keeps no such objects. */
export interface Route {
  readonly key: PrefixKey;
  readonly peer: RibPeer;
  readonly attrSet: AttrSet;
  readonly stale: boolean;
}

/** Receives the slots whose best route (or multipath set) changed, once per bulk operation. */
export type ChangeListener = (slots: readonly number[]) => void;

export class LocRib {
  readonly registry: AttrSetRegistry;
  readonly prefixes: PrefixIndex;
  private readonly opts: Required<Omit<DecisionOptions, 'igpCost' | 'multipath'>>;
  private readonly igpCostFn: DecisionOptions['igpCost'];
  private readonly igpCache = new Map<string | undefined, number | null>();
  private readonly multipath: Required<MultipathOptions> | null;

  private readonly peers: (RibPeer | undefined)[] = [];
  private readonly listeners: ChangeListener[] = [];

  // per slot
  private head: Int32Array;
  private bestNode: Int32Array;
  // per node
  /** Peer index per node (NO_PEER when the node is free): 2 bytes. */
  private nPeer: Uint16Array;
  private nAttr: Int32Array;
  private nSlot: Int32Array;
  private nNext: Int32Array;
  private nFlags: Uint8Array;
  private nodeHigh = 0;
  private freeNode = -1;
  private routeTotal = 0;
  private bestTotal = 0;
  private readonly scratch: number[] = [];
  /** Slots whose last candidate went away, released after the change is reported. */
  private relAttr = 0;
  private relAttrCount = 0;
  private toRelease = new Int32Array(64);
  private toReleaseLength = 0;
  private emitting = 0;
  private readonly scratch2: number[] = [];

  constructor(options: LocRibOptions = {}) {
    this.registry = options.registry ?? new AttrSetRegistry();
    this.prefixes = options.prefixes ?? new PrefixIndex(options.initialCapacity ?? 1024);
    this.opts = {
      defaultLocalPref: options.defaultLocalPref ?? 100,
      alwaysCompareMed: options.alwaysCompareMed ?? false,
      medMissingAsWorst: options.medMissingAsWorst ?? false,
    };
    this.igpCostFn = options.igpCost;
    this.multipath = options.multipath
      ? { maxPaths: options.multipath.maxPaths ?? 16, asPath: options.multipath.asPath ?? 'identical' }
      : null;
    const cap = this.prefixes.slotCapacity;
    this.head = allocInt32(cap, -1);
    this.bestNode = allocInt32(cap, -1);
    this.prefixes.onGrow((c) => {
      this.head = growInt32(this.head, c, -1);
      this.bestNode = growInt32(this.bestNode, c, -1);
    });
    const n = Math.max(16, options.initialCapacity ?? 1024);
    this.nPeer = new Uint16Array(n);
    this.nAttr = allocInt32(n);
    this.nSlot = allocInt32(n);
    this.nNext = allocInt32(n);
    this.nFlags = allocUint8(n);
  }

  // ---- peers ----

  addPeer(config: RibPeerConfig): RibPeer {
    for (const p of this.peers) {
      if (p && p.name === config.name) throw new RibPeerConfigError('name', `${config.name} is already in the RIB`);
    }
    let index = this.peers.indexOf(undefined);
    if (index < 0) index = this.peers.length;
    if (index >= NO_PEER)
      throw new RibPeerConfigError('name', `${config.name}: a RIB holds at most ${NO_PEER} peers; remove one first`);
    const peer = new RibPeerClass(index, config);
    this.peers[index] = peer;
    return peer;
  }

  /** Withdraws every route of `peer` and forgets it. Returns the changed slots. */
  removePeer(peer: RibPeer): number[] {
    const changed = this.withdrawAll(peer);
    this.peers[peer.index] = undefined;
    return changed;
  }

  peer(index: number): RibPeer | undefined {
    return this.peers[index];
  }

  allPeers(): RibPeer[] {
    return this.peers.filter((p): p is RibPeer => p !== undefined);
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  // ---- updates ----

  /**
   * Applies one UPDATE's worth from `peer`: `announced` prefixes get `attrs` (interned here),
   * `withdrawn` ones are removed. Announcing a prefix the peer already has replaces its route
   * (and makes a stale route fresh). Returns the slots whose best route or multipath set changed
   * (listeners get the same array); a slot may appear twice if a prefix is in both lists.
   */
  applyUpdate(
    peer: RibPeer,
    attrs: PathAttributes | AttrSet | null,
    announced: ArrayLike<PrefixKey>,
    withdrawn: ArrayLike<PrefixKey> = [],
  ): number[] {
    this.checkPeer(peer);
    if (announced.length > 0 && !attrs) throw new TypeError('applyUpdate: announced prefixes need attributes');
    // at most one entry per prefix: allocated once at that size, trimmed at the end
    const changed: number[] = new Array(announced.length + withdrawn.length);
    let c = 0;
    const prefixes = this.prefixes;
    for (let i = 0; i < withdrawn.length; i++) {
      const slot = prefixes.find(withdrawn[i]!);
      if (slot >= 0 && this.removeRoute(peer, slot)) changed[c++] = slot;
    }
    this.flushAttrReleases();
    if (announced.length > 0 && attrs) {
      const reg = this.registry;
      const set = attrs instanceof AttrSet ? attrs : reg.intern(attrs, 0);
      const pi = peer.index;
      const aid = set.id;
      const direct = !this.igpCostFn;
      // references taken on `set` and routes added, applied once after the loop
      let taken = 0;
      let added = 0;
      for (let i = 0; i < announced.length; i++) {
        const slot = prefixes.intern(announced[i]!);
        // read after intern: growing the prefix index replaces the per-slot arrays
        const head = this.head;
        let h = head[slot]!;
        if (h < 0) {
          // fast path: first route for this prefix, it is the best
          const n = this.allocNode();
          this.nPeer[n] = pi;
          this.nAttr[n] = aid;
          this.nSlot[n] = slot;
          this.nNext[n] = -1;
          this.nFlags[n] = 0;
          head[slot] = n;
          taken++;
          added++;
          prefixes.ref(slot);
          if (direct) {
            this.bestNode[slot] = n;
            this.bestTotal++;
            changed[c++] = slot;
          } else if (this.select(slot)) changed[c++] = slot;
          continue;
        }
        const nPeer = this.nPeer;
        const nNext = this.nNext;
        while (h >= 0 && nPeer[h] !== pi) h = nNext[h]!;
        let force = false;
        if (h >= 0) {
          const f = this.nFlags[h]!;
          if (f & STALE) {
            peer.staleCount--;
            this.nFlags[h] = f & ~STALE;
          }
          const old = this.nAttr[h]!;
          if (old === aid) continue;
          taken++;
          this.nAttr[h] = aid;
          reg.releaseId(old);
          force = this.bestNode[slot] === h || (f & MULTIPATH) !== 0;
        } else {
          const n = this.allocNode();
          this.nPeer[n] = pi;
          this.nAttr[n] = aid;
          this.nSlot[n] = slot;
          this.nNext[n] = head[slot]!;
          this.nFlags[n] = 0;
          head[slot] = n;
          taken++;
          added++;
        }
        if (this.select(slot) || force) changed[c++] = slot;
      }
      set.refs += taken;
      peer.routeCount += added;
      this.routeTotal += added;
      if (set.refs === 0) reg.release(set, 0);
    }
    changed.length = c;
    this.emit(changed);
    return changed;
  }

  /** Withdraws every route of `peer` (session down without graceful restart). */
  withdrawAll(peer: RibPeer): number[] {
    return this.removeMatching(peer, 0);
  }

  // ---- graceful restart (RFC 4724, helper side) ----

  /** Marks every route of `peer` stale. Re-announced routes become fresh again. Returns how many. */
  markStale(peer: RibPeer): number {
    this.checkPeer(peer);
    const pi = peer.index;
    let n = 0;
    for (let i = 0; i < this.nodeHigh; i++) {
      if (this.nPeer[i] === pi && this.nSlot[i]! >= 0 && !(this.nFlags[i]! & STALE)) {
        this.nFlags[i] = this.nFlags[i]! | STALE;
        n++;
      }
    }
    peer.staleCount += n;
    return n;
  }

  /** Removes the routes of `peer` still stale (End-of-RIB received, or the restart timer fired). */
  sweepStale(peer: RibPeer): number[] {
    return this.removeMatching(peer, STALE);
  }

  // ---- queries ----

  /** Number of prefixes with a best route. */
  get size(): number {
    return this.bestTotal;
  }

  /** Number of routes across all Adj-RIBs-In. */
  get routeCount(): number {
    return this.routeTotal;
  }

  slotOf(key: PrefixKey): number {
    return this.prefixes.find(key);
  }

  keyOf(slot: number): PrefixKey {
    return this.prefixes.keyOf(slot);
  }

  best(key: PrefixKey): Route | undefined {
    const slot = this.prefixes.find(key);
    return slot < 0 ? undefined : this.bestAt(slot);
  }

  bestAt(slot: number): Route | undefined {
    const n = this.bestNode[slot] ?? -1;
    return n < 0 ? undefined : this.routeOf(n);
  }

  /** Node index of the best route at `slot`, or -1 (for tables that read attributes by id). */
  bestNodeAt(slot: number): number {
    return this.bestNode[slot] ?? -1;
  }

  nodePeer(node: number): number {
    return this.nPeer[node]!;
  }

  nodeAttr(node: number): number {
    return this.nAttr[node]!;
  }

  /** The ECMP set at `key`, best first; just the best route when multipath is off. */
  multipathSet(key: PrefixKey): Route[] {
    const slot = this.prefixes.find(key);
    if (slot < 0) return [];
    const b = this.bestNode[slot]!;
    if (b < 0) return [];
    const out = [this.routeOf(b)];
    for (let n = this.head[slot]!; n >= 0; n = this.nNext[n]!) {
      if (n !== b && this.nFlags[n]! & MULTIPATH) out.push(this.routeOf(n));
    }
    return out;
  }

  /** All candidate routes (one per peer) at `key`, in no particular order. */
  candidates(key: PrefixKey): Route[] {
    const slot = this.prefixes.find(key);
    const out: Route[] = [];
    if (slot < 0) return out;
    for (let n = this.head[slot]!; n >= 0; n = this.nNext[n]!) out.push(this.routeOf(n));
    return out;
  }

  /** The route `peer` gave for `key` (its Adj-RIB-In entry, post import policy). */
  routeFrom(peer: RibPeer, key: PrefixKey): Route | undefined {
    const slot = this.prefixes.find(key);
    if (slot < 0) return undefined;
    for (let n = this.head[slot]!; n >= 0; n = this.nNext[n]!) if (this.nPeer[n] === peer.index) return this.routeOf(n);
    return undefined;
  }

  /** Every best route (a snapshot walk; do not modify the RIB while iterating). */
  *bestRoutes(): IterableIterator<Route> {
    for (const slot of this.prefixes.slots()) {
      const n = this.bestNode[slot]!;
      if (n >= 0) yield this.routeOf(n);
    }
  }

  /** Slots that currently have a best route. */
  *bestSlots(): IterableIterator<number> {
    for (const slot of this.prefixes.slots()) if (this.bestNode[slot]! >= 0) yield slot;
  }

  /** The Adj-RIB-In of `peer` (post import policy). */
  *routesOf(peer: RibPeer): IterableIterator<Route> {
    for (let i = 0; i < this.nodeHigh; i++) {
      if (this.nPeer[i] === peer.index && this.nSlot[i]! >= 0) yield this.routeOf(i);
    }
  }

  /** Re-runs the decision process everywhere after IGP costs changed. Returns the changed slots. */
  igpChanged(): number[] {
    this.igpCache.clear();
    const changed: number[] = [];
    for (const slot of this.prefixes.slots()) {
      const h = this.head[slot]!;
      if (h >= 0 && this.select(slot)) changed.push(slot);
    }
    this.emit(changed);
    return changed;
  }

  // ---- internals ----

  private routeOf(n: number): Route {
    return {
      key: this.prefixes.keyOf(this.nSlot[n]!),
      peer: this.peers[this.nPeer[n]!]!,
      attrSet: this.registry.get(this.nAttr[n]!),
      stale: (this.nFlags[n]! & STALE) !== 0,
    };
  }

  private checkPeer(peer: RibPeer): void {
    if (this.peers[peer.index] !== peer) throw new RibPeerConfigError('peer', `${peer.name} is not a peer of this RIB`);
  }

  /**
   * Tells the listeners, then releases the slots whose last route went away (so listeners can
   * still name those prefixes: `keyOf(slot)` works until emit returns).
   */
  private emit(changed: number[]): void {
    if (changed.length > 0) {
      this.emitting++;
      try {
        for (const l of this.listeners) l(changed);
      } finally {
        this.emitting--;
      }
    }
    // a listener that changes the RIB emits again inside: the outermost emit releases
    const n = this.toReleaseLength;
    if (n === 0 || this.emitting > 0) return;
    const rel = this.toRelease;
    const prefixes = this.prefixes;
    for (let i = 0; i < n; i++) prefixes.unref(rel[i]!);
    this.toReleaseLength = 0;
    if (rel.length > 65536) this.toRelease = new Int32Array(64);
  }

  private flushAttrReleases(): void {
    if (this.relAttrCount === 0) return;
    const n = this.relAttrCount;
    this.relAttrCount = 0;
    this.registry.releaseId(this.relAttr, n);
  }

  private allocNode(): number {
    if (this.freeNode >= 0) {
      const n = this.freeNode;
      this.freeNode = this.nNext[n]!;
      return n;
    }
    if (this.nodeHigh === this.nPeer.length) {
      const cap = this.nPeer.length * (this.nPeer.length < 1 << 16 ? 4 : 2);
      this.nPeer = growUint16(this.nPeer, cap);
      this.nAttr = growInt32(this.nAttr, cap);
      this.nSlot = growInt32(this.nSlot, cap);
      this.nNext = growInt32(this.nNext, cap);
      this.nFlags = growUint8(this.nFlags, cap);
    }
    return this.nodeHigh++;
  }

  private freeNodeAt(n: number): void {
    this.nSlot[n] = -1;
    this.nPeer[n] = NO_PEER;
    this.nNext[n] = this.freeNode;
    this.freeNode = n;
  }

  /** Removes `peer`'s route at `slot`; true when the best route or multipath set changed. */
  private removeRoute(peer: RibPeer, slot: number): boolean {
    const pi = peer.index;
    let prev = -1;
    let n = this.head[slot]!;
    while (n >= 0 && this.nPeer[n] !== pi) {
      prev = n;
      n = this.nNext[n]!;
    }
    if (n < 0) return false;
    return this.unlink(peer, slot, n, prev);
  }

  private unlink(peer: RibPeer, slot: number, n: number, prev: number): boolean {
    const next = this.nNext[n]!;
    if (prev < 0) this.head[slot] = next;
    else this.nNext[prev] = next;
    const flags = this.nFlags[n]!;
    const wasBest = this.bestNode[slot] === n;
    // attribute set references go in runs (flushAttrReleases): a withdrawal of many prefixes
    // that shared a set touches the registry once
    const a = this.nAttr[n]!;
    if (a !== this.relAttr) {
      this.flushAttrReleases();
      this.relAttr = a;
    }
    this.relAttrCount++;
    peer.routeCount--;
    if (flags & STALE) peer.staleCount--;
    this.routeTotal--;
    this.freeNodeAt(n);
    if (this.head[slot]! < 0) {
      const had = this.bestNode[slot]! >= 0;
      this.bestNode[slot] = -1;
      if (had) this.bestTotal--;
      // the Loc-RIB's reference goes after the change is reported (see emit)
      if (this.toReleaseLength === this.toRelease.length) {
        const grown = new Int32Array(this.toRelease.length * 2);
        grown.set(this.toRelease);
        this.toRelease = grown;
      }
      this.toRelease[this.toReleaseLength++] = slot;
      return had;
    }
    if (wasBest || flags & MULTIPATH) {
      this.select(slot);
      return true;
    }
    return false;
  }

  private removeMatching(peer: RibPeer, flag: number): number[] {
    this.checkPeer(peer);
    const pi = peer.index;
    const changed: number[] = [];
    for (let i = 0; i < this.nodeHigh; i++) {
      if (this.nPeer[i] !== pi) continue;
      const slot = this.nSlot[i]!;
      if (slot < 0 || (flag && !(this.nFlags[i]! & flag))) continue;
      let prev = -1;
      let n = this.head[slot]!;
      while (n !== i) {
        prev = n;
        n = this.nNext[n]!;
      }
      if (this.unlink(peer, slot, i, prev)) changed.push(slot);
    }
    this.flushAttrReleases();
    this.emit(changed);
    return changed;
  }

  private igp(set: AttrSet): number | null {
    const fn = this.igpCostFn;
    if (!fn) return 0;
    const nh = set.attrs.nextHop;
    let c = this.igpCache.get(nh);
    if (c === undefined) {
      c = fn(nh, set.attrs);
      this.igpCache.set(nh, c);
    }
    return c;
  }

  /**
   * Runs the decision process at `slot`: sets the best node and the multipath flags. Returns
   * true when the best node or the multipath membership changed.
   */
  private select(slot: number): boolean {
    const oldBest = this.bestNode[slot]!;
    const h = this.head[slot]!;
    const nNext = this.nNext;
    const nFlags = this.nFlags;
    if (h >= 0 && nNext[h]! < 0 && !this.igpCostFn) {
      // one candidate: nothing to compare
      const hadMp = (nFlags[h]! & MULTIPATH) !== 0;
      nFlags[h] = nFlags[h]! & ~MULTIPATH;
      this.bestNode[slot] = h;
      if (oldBest < 0) this.bestTotal++;
      return oldBest !== h || hadMp;
    }
    const reg = this.registry;
    const c = this.scratch;
    c.length = 0;
    let mpBefore = 0;
    for (let n = h; n >= 0; n = nNext[n]!) {
      if (nFlags[n]! & MULTIPATH) mpBefore++;
      if (this.igp(reg.get(this.nAttr[n]!)) !== null) c.push(n);
    }
    const best = c.length === 0 ? -1 : this.decide(c);
    let mpChanged = false;
    if (this.multipath) {
      // c now holds the routes equal through the IGP-cost step
      const bestSet = best >= 0 ? reg.get(this.nAttr[best]!) : undefined;
      const mp = this.scratch2;
      mp.length = 0;
      if (bestSet) {
        for (const n of c) {
          if (n === best) continue;
          if (this.multipath.asPath === 'identical' && !samePath(reg.get(this.nAttr[n]!), bestSet)) continue;
          mp.push(n);
        }
        mp.sort((a, b) => this.tieBreak(a, b));
        if (mp.length > this.multipath.maxPaths - 1) mp.length = Math.max(0, this.multipath.maxPaths - 1);
      }
      for (let n = h; n >= 0; n = nNext[n]!) {
        const want = mp.includes(n);
        const had = (nFlags[n]! & MULTIPATH) !== 0;
        if (want !== had) {
          mpChanged = true;
          nFlags[n] = want ? nFlags[n]! | MULTIPATH : nFlags[n]! & ~MULTIPATH;
        }
      }
    } else if (mpBefore) {
      for (let n = h; n >= 0; n = nNext[n]!) nFlags[n] = nFlags[n]! & ~MULTIPATH;
    }
    this.bestNode[slot] = best;
    if (oldBest < 0 && best >= 0) this.bestTotal++;
    else if (oldBest >= 0 && best < 0) this.bestTotal--;
    return oldBest !== best || mpChanged;
  }

  /**
   * RFC 4271 §9.1.2.2 over the eligible candidates in `c`. On return `c` holds the candidates
   * equal through the IGP-cost step (the multipath set); the winner is returned.
   */
  private decide(c: number[]): number {
    if (c.length === 1) return c[0]!;
    const reg = this.registry;
    const f = reg.fields;
    const peers = this.peers;
    const nAttr = this.nAttr;
    const nPeer = this.nPeer;
    // 0. routes this speaker originates win over learned ones
    keepBest(c, (n) => (peers[nPeer[n]!]!.type === 'local' ? 0 : 1));
    // a. highest degree of preference (LOCAL_PREF)
    const dlp = this.opts.defaultLocalPref;
    keepBest(c, (n) => {
      const lp = f.localPref[nAttr[n]!]!;
      return -(lp < 0 ? dlp : lp);
    });
    // b. shortest AS_PATH (AS_SET counts 1, confederation segments 0)
    keepBest(c, (n) => f.asPathLength[nAttr[n]!]!);
    // c. lowest ORIGIN
    keepBest(c, (n) => f.origin[nAttr[n]!]!);
    // d. lowest MED, among routes from the same neighbour AS unless always-compare-med
    if (c.length > 1) {
      const worst = this.opts.medMissingAsWorst;
      const med = (n: number): number => {
        const m = f.med[nAttr[n]!]!;
        return m < 0 ? (worst ? 0x100000000 : 0) : m;
      };
      if (this.opts.alwaysCompareMed) keepBest(c, med);
      else {
        const minByAs = new Map<number, number>();
        for (const n of c) {
          const as = f.neighborAs[nAttr[n]!]!;
          const m = med(n);
          const cur = minByAs.get(as);
          if (cur === undefined || m < cur) minByAs.set(as, m);
        }
        let w = 0;
        for (const n of c) if (med(n) === minByAs.get(f.neighborAs[nAttr[n]!]!)) c[w++] = n;
        c.length = w;
      }
    }
    // e. eBGP over iBGP
    keepBest(c, (n) => (peers[nPeer[n]!]!.type === 'ebgp' ? 0 : 1));
    // f. lowest IGP cost to the next hop
    keepBest(c, (n) => this.igp(reg.get(nAttr[n]!)) ?? 0);
    if (c.length === 1) return c[0]!;
    let best = c[0]!;
    for (let i = 1; i < c.length; i++) if (this.tieBreak(c[i]!, best) < 0) best = c[i]!;
    return best;
  }

  /** Steps g-i: lowest router id (ORIGINATOR_ID when present), shortest CLUSTER_LIST, lowest peer address. */
  private tieBreak(a: number, b: number): number {
    const reg = this.registry;
    const sa = reg.get(this.nAttr[a]!);
    const sb = reg.get(this.nAttr[b]!);
    const pa = this.peers[this.nPeer[a]!]!;
    const pb = this.peers[this.nPeer[b]!]!;
    const ida = sa.originatorId >= 0 ? sa.originatorId : pa.routerIdNum;
    const idb = sb.originatorId >= 0 ? sb.originatorId : pb.routerIdNum;
    if (ida !== idb) return ida - idb;
    if (sa.clusterListLength !== sb.clusterListLength) return sa.clusterListLength - sb.clusterListLength;
    return pa.addressSort < pb.addressSort ? -1 : pa.addressSort > pb.addressSort ? 1 : 0;
  }
}

/** Keeps the elements of `c` with the lowest `score`, in place. */
function keepBest(c: number[], score: (n: number) => number): void {
  if (c.length < 2) return;
  let min = Number.POSITIVE_INFINITY;
  for (const n of c) {
    const s = score(n);
    if (s < min) min = s;
  }
  let w = 0;
  for (const n of c) if (score(n) === min) c[w++] = n;
  c.length = w;
}

function samePath(a: AttrSet, b: AttrSet): boolean {
  const pa = a.attrs.asPath ?? [];
  const pb = b.attrs.asPath ?? [];
  if (pa.length !== pb.length) return false;
  for (let i = 0; i < pa.length; i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x.type !== y.type || x.asns.length !== y.asns.length) return false;
    for (let j = 0; j < x.asns.length; j++) if (x.asns[j] !== y.asns[j]) return false;
  }
  return true;
}
