// The standard advertisement rules (RFC 4271 §9.1.3, RFC 4456 route reflection, RFC 1997
// well-known communities) and the import/export pipelines that wrap them around the per-neighbor
// policies. The pipelines implement the RIB's Importer/Exporter interfaces.

import type { Importer } from '../rib/adj-rib-in.js';
import type { Exporter } from '../rib/adj-rib-out.js';
import {
  type AttrChanges,
  type AttrSet,
  CommunityFlag,
  neighborAs,
  WellKnownCommunity,
  withAttrs,
} from '../rib/attrs.js';
import type { RibPeer } from '../rib/peer.js';
import { type PrefixKey, parseIpv4 } from '../rib/prefix.js';
import type { PathAttributes } from '../wire/types.js';
import { ACCEPT_ALL, type Policy, prependAs } from './compile.js';
import { PolicyConfigError } from './errors.js';

/** This speaker, as the rules see it. */
export interface LocalSpeaker {
  readonly asn: number;
  /** BGP identifier (dotted quad). */
  readonly routerId: string;
  /** Reflect routes between iBGP peers by RFC 4456 (iBGP peers with `rrClient` are clients). */
  readonly routeReflector?: boolean;
  /** Cluster id (dotted quad); default the router id. */
  readonly clusterId?: string;
  /** LOCAL_PREF given to routes sent to iBGP peers without one (default 100). */
  readonly defaultLocalPref?: number;
}

export function validateLocal(local: LocalSpeaker, field = 'local'): void {
  if (!Number.isInteger(local.asn) || local.asn < 1 || local.asn > 0xffffffff)
    throw new PolicyConfigError(`${field}.asn`, `${local.asn} is not an AS number`);
  if (parseIpv4(local.routerId) === null)
    throw new PolicyConfigError(`${field}.routerId`, `${JSON.stringify(local.routerId)} is not a dotted quad`);
  if (local.clusterId !== undefined && parseIpv4(local.clusterId) === null)
    throw new PolicyConfigError(`${field}.clusterId`, `${JSON.stringify(local.clusterId)} is not a dotted quad`);
}

function wellKnownFlags(attrs: PathAttributes | AttrSet): number {
  if ('wellKnown' in attrs) return attrs.wellKnown;
  let wk = 0;
  for (const c of attrs.communities ?? []) {
    if (c === WellKnownCommunity.NO_EXPORT) wk |= CommunityFlag.NO_EXPORT;
    else if (c === WellKnownCommunity.NO_ADVERTISE) wk |= CommunityFlag.NO_ADVERTISE;
    else if (c === WellKnownCommunity.NO_EXPORT_SUBCONFED) wk |= CommunityFlag.NO_EXPORT_SUBCONFED;
  }
  return wk;
}

/**
 * Whether a best route learned from `from` may be advertised to `to` at all:
 * - never back to the peer it came from; NO_ADVERTISE to nobody; NO_EXPORT and
 *   NO_EXPORT_SUBCONFED not to eBGP peers (Tortie has no confederations);
 * - local and eBGP-learned routes to everyone;
 * - iBGP-learned routes to eBGP peers; to iBGP peers only when reflecting (RFC 4456): from a
 *   client to all iBGP peers, from a non-client to clients only.
 */
export function advertisementFilter(
  local: LocalSpeaker,
  from: RibPeer,
  to: RibPeer,
  attrs: PathAttributes | AttrSet,
): boolean {
  if (from === to || to.type === 'local') return false;
  const wk = wellKnownFlags(attrs);
  if (wk & CommunityFlag.NO_ADVERTISE) return false;
  if (to.type === 'ebgp' && wk & (CommunityFlag.NO_EXPORT | CommunityFlag.NO_EXPORT_SUBCONFED)) return false;
  if (from.type !== 'ibgp' || to.type === 'ebgp') return true;
  if (!local.routeReflector) return false;
  return from.rrClient || to.rrClient;
}

export interface ImportOptions {
  readonly local: LocalSpeaker;
  readonly peer: RibPeer;
  /** The neighbor's import policy (default: accept). */
  readonly policy?: Policy;
  /** Accept paths containing the local AS up to this many times (default 0). */
  readonly allowAsIn?: number;
  /** Reject eBGP routes whose first AS is not the peer's AS (default true). */
  readonly enforceFirstAs?: boolean;
}

/** Why the standard import rules reject a route, or null when they accept it. */
export function importCheck(
  local: LocalSpeaker,
  peer: RibPeer,
  attrs: PathAttributes,
  allowAsIn = 0,
  enforceFirstAs = true,
): 'as-loop' | 'originator-id' | 'cluster-loop' | 'first-as' | null {
  let own = 0;
  for (const seg of attrs.asPath ?? []) for (const a of seg.asns) if (a === local.asn) own++;
  if (own > allowAsIn) return 'as-loop';
  if (peer.type === 'ibgp') {
    if (attrs.originatorId !== undefined && attrs.originatorId === local.routerId) return 'originator-id';
    const cluster = local.clusterId ?? local.routerId;
    if (attrs.clusterList?.includes(cluster)) return 'cluster-loop';
  }
  if (peer.type === 'ebgp' && enforceFirstAs && neighborAs(attrs.asPath) !== peer.asn) return 'first-as';
  return null;
}

/** Import pipeline of one neighbor: the standard checks, then its policy. */
export function createImporter(options: ImportOptions): Importer {
  const { local, peer } = options;
  validateLocal(local);
  const policy = options.policy ?? ACCEPT_ALL;
  const allowAsIn = options.allowAsIn ?? 0;
  if (!Number.isInteger(allowAsIn) || allowAsIn < 0 || allowAsIn > 10)
    throw new PolicyConfigError('allowAsIn', `must be an integer from 0 to 10, got ${allowAsIn}`);
  const enforce = options.enforceFirstAs ?? true;
  return {
    prefixDependent: policy.prefixDependent,
    importRoute(attrs, key) {
      if (importCheck(local, peer, attrs, allowAsIn, enforce) !== null) return null;
      let a = attrs;
      if (
        peer.type === 'ebgp' &&
        (a.localPref !== undefined || a.originatorId !== undefined || a.clusterList !== undefined)
      ) {
        // LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST mean nothing from another AS
        const { localPref: _lp, originatorId: _o, clusterList: _c, ...rest } = a;
        a = rest;
      }
      const r = policy.evaluate({ key, attrs: a });
      return r.accepted ? r.attrs : null;
    },
  };
}

export interface ExportOptions {
  readonly local: LocalSpeaker;
  /** The neighbor routes go to. */
  readonly peer: RibPeer;
  /** Local address of the session (next hop self for IPv4 routes). */
  readonly localAddress?: string;
  /** Local global IPv6 address (next hop self for IPv6 routes). */
  readonly localAddressV6?: string;
  /** Next hop self or keep; default self towards eBGP, keep towards iBGP. */
  readonly nextHop?: 'self' | 'keep';
  /** Extra prepends of the local AS towards eBGP (default 0). */
  readonly asPrepend?: number;
  /** The neighbor's export policy (default: accept what the standard rules allow). */
  readonly policy?: Policy;
}

/**
 * The standard attribute changes for `to` (no filtering): towards eBGP prepend the local AS (plus
 * extra prepends), next hop self unless keep, drop LOCAL_PREF, a learned MED, ORIGINATOR_ID and
 * CLUSTER_LIST; towards iBGP keep the next hop unless self (and set it when absent), set LOCAL_PREF
 * when absent, and when reflecting an iBGP route set ORIGINATOR_ID and prepend the cluster id.
 */
export function standardExport(
  local: LocalSpeaker,
  from: RibPeer,
  to: RibPeer,
  attrs: PathAttributes,
  opts: { nextHopSelf: boolean; selfNextHop: string | undefined; asPrepend: number },
): PathAttributes {
  const selfNh = (opts.nextHopSelf || attrs.nextHop === undefined) && opts.selfNextHop !== undefined;
  if (to.type === 'ebgp') {
    const path = attrs.asPath ?? [];
    return withAttrs(attrs, {
      asPath: prependAs(
        path.some((s) => s.type === 3 || s.type === 4) ? path.filter((s) => s.type === 1 || s.type === 2) : path,
        local.asn,
        1 + opts.asPrepend,
      ),
      nextHop: selfNh ? opts.selfNextHop : attrs.nextHop,
      localPref: undefined,
      med: from.type === 'local' ? attrs.med : undefined,
      originatorId: undefined,
      clusterList: undefined,
    });
  }
  const changes: AttrChanges = {};
  if (selfNh) changes.nextHop = opts.selfNextHop;
  if (attrs.localPref === undefined) changes.localPref = local.defaultLocalPref ?? 100;
  if (from.type === 'ibgp' && to.type === 'ibgp') {
    changes.originatorId = attrs.originatorId ?? from.routerId;
    changes.clusterList = [local.clusterId ?? local.routerId, ...(attrs.clusterList ?? [])];
  }
  return withAttrs(attrs, changes);
}

/** Export pipeline towards one neighbor: advertisement filter, standard changes, then its policy. */
export function createExporter(options: ExportOptions): Exporter {
  const { local, peer } = options;
  validateLocal(local);
  const policy = options.policy ?? ACCEPT_ALL;
  const asPrepend = options.asPrepend ?? 0;
  if (!Number.isInteger(asPrepend) || asPrepend < 0 || asPrepend > 32)
    throw new PolicyConfigError('asPrepend', `must be an integer from 0 to 32, got ${asPrepend}`);
  const nh = options.nextHop ?? (peer.type === 'ebgp' ? 'self' : 'keep');
  if (nh !== 'self' && nh !== 'keep')
    throw new PolicyConfigError('nextHop', `must be self or keep, got ${JSON.stringify(nh)}`);
  const ctx4 = options.localAddress === undefined ? {} : { selfNextHop: options.localAddress };
  const ctx6 = options.localAddressV6 === undefined ? {} : { selfNextHop: options.localAddressV6 };
  return {
    prefixDependent: policy.prefixDependent,
    exportRoute(from: RibPeer, attrSet: AttrSet, key: PrefixKey) {
      if (!advertisementFilter(local, from, peer, attrSet)) return null;
      const ctx = typeof key === 'number' ? ctx4 : ctx6;
      const a = standardExport(local, from, peer, attrSet.attrs, {
        nextHopSelf: nh === 'self',
        selfNextHop: ctx.selfNextHop,
        asPrepend,
      });
      const r = policy.evaluate({ key, attrs: a }, ctx);
      return r.accepted ? r.attrs : null;
    },
  };
}
