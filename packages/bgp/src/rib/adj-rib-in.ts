// Adj-RIB-In of one peer: the entry point for its UPDATEs. Routes are stored post import policy
// inside the shared Loc-RIB (one node per prefix and peer, no per-prefix object); a route the
// import policy rejects is treated as withdrawn, so an earlier accepted version goes away.

import type { PathAttributes } from '../wire/types.js';
import { attrKey } from './attrs.js';
import type { LocRib, Route } from './loc-rib.js';
import type { RibPeer } from './peer.js';
import type { PrefixKey } from './prefix.js';

/** Import rules of one peer. Built by `policy/` (`createImporter`). */
export interface Importer {
  /** True when results depend on the prefix; then they are computed per prefix. */
  readonly prefixDependent: boolean;
  /** The attributes to store for `key`, or null to reject the route. */
  importRoute(attrs: PathAttributes, key: PrefixKey): PathAttributes | null;
}

export class AdjRibIn {
  readonly rib: LocRib;
  readonly peer: RibPeer;
  importer: Importer | null;

  constructor(rib: LocRib, peer: RibPeer, importer: Importer | null = null) {
    this.rib = rib;
    this.peer = peer;
    this.importer = importer;
  }

  /** Routes stored for this peer. */
  get size(): number {
    return this.peer.routeCount;
  }

  /**
   * One UPDATE (or one family's part of it): `announced` carry `attrs`, `withdrawn` are removed.
   * Returns the Loc-RIB slots whose best route changed.
   */
  update(
    attrs: PathAttributes | null,
    announced: ArrayLike<PrefixKey>,
    withdrawn: ArrayLike<PrefixKey> = [],
  ): number[] {
    const imp = this.importer;
    if (!imp || announced.length === 0) return this.rib.applyUpdate(this.peer, attrs, announced, withdrawn);
    if (!attrs) throw new TypeError('AdjRibIn.update: announced prefixes need attributes');
    if (!imp.prefixDependent) {
      const r = imp.importRoute(attrs, announced[0]!);
      if (r) return this.rib.applyUpdate(this.peer, r, announced, withdrawn);
      return this.rib.applyUpdate(this.peer, null, [], concat(withdrawn, announced));
    }
    const rejected: PrefixKey[] = [];
    const groups = new Map<string, { attrs: PathAttributes; keys: PrefixKey[] }>();
    let lastIn: PathAttributes | null = null;
    let lastGroup: { attrs: PathAttributes; keys: PrefixKey[] } | undefined;
    for (let i = 0; i < announced.length; i++) {
      const key = announced[i]!;
      const r = imp.importRoute(attrs, key);
      if (!r) {
        rejected.push(key);
        continue;
      }
      if (r !== lastIn) {
        lastIn = r;
        const k = attrKey(r);
        lastGroup = groups.get(k);
        if (!lastGroup) {
          lastGroup = { attrs: r, keys: [] };
          groups.set(k, lastGroup);
        }
      }
      lastGroup!.keys.push(key);
    }
    const changed = this.rib.applyUpdate(this.peer, null, [], concat(withdrawn, rejected));
    for (const g of groups.values()) for (const s of this.rib.applyUpdate(this.peer, g.attrs, g.keys)) changed.push(s);
    return changed;
  }

  /** Session down without graceful restart: every route of the peer goes. */
  clear(): number[] {
    return this.rib.withdrawAll(this.peer);
  }

  /** Graceful restart: the peer restarted; keep its routes as stale. */
  markStale(): number {
    return this.rib.markStale(this.peer);
  }

  /** End-of-RIB from the peer (or the stale timer fired): drop what was not refreshed. */
  sweepStale(): number[] {
    return this.rib.sweepStale(this.peer);
  }

  routes(): IterableIterator<Route> {
    return this.rib.routesOf(this.peer);
  }
}

function concat(a: ArrayLike<PrefixKey>, b: ArrayLike<PrefixKey>): PrefixKey[] {
  const out: PrefixKey[] = Array.from(a);
  for (let i = 0; i < b.length; i++) out.push(b[i]!);
  return out;
}
