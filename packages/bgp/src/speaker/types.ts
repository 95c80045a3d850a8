// The Speaker's public data types: desired state in (peers, advertised routes), snapshots and
// change events out. Plain data; nothing here knows of Kubernetes or Linux.
import type { PolicyConfig } from '../policy/index.js';
import type { Family, LargeCommunity } from '../wire/index.js';

export interface PeerConfig {
  /** The neighbor's address (IPv4 or IPv6); identifies the peer. */
  readonly address: string;
  readonly asn: number;
  /** Default 179. */
  readonly port?: number;
  readonly description?: string;
  /** Source address for outgoing connections. */
  readonly localAddress?: string;
  /** Never connect, only accept (default false). */
  readonly passive?: boolean;
  /** Seconds: 0 or 3..65535 (default 90). */
  readonly holdTime?: number;
  /** Seconds between connection attempts (default 5, with back-off). */
  readonly connectRetryTime?: number;
  /** Default: both families for an IPv4 neighbor, IPv6 unicast for an IPv6 one. */
  readonly families?: readonly Family[];
  readonly routeReflectorClient?: boolean;
  /** Next hop self towards this peer (default: self towards eBGP, keep towards iBGP). */
  readonly nextHopSelf?: boolean;
  /** eBGP multihop TTL (default 1 for eBGP). */
  readonly ttl?: number;
  /** Graceful restart (RFC 4724) with this restart time, or false (default false). */
  readonly gracefulRestart?: { readonly restartTime: number } | false;
  /**
   * IPv6 next hop to send when we are the next hop and the session runs over IPv4 (MP-BGP). Without
   * it, IPv6 routes go out with the IPv4-mapped session address.
   */
  readonly ipv6NextHop?: string;
  /** Import policy (default: accept what the standard rules accept). */
  readonly import?: PolicyConfig;
  /** Export policy (default: the standard advertisement rules only). */
  readonly export?: PolicyConfig;
}

/** A route this speaker originates. */
export interface AdvertisedRoute {
  /** `10.244.1.0/26` or `2001:db8::/64`. */
  readonly prefix: string;
  /** RFC 1997 communities as numbers or `ASN:VALUE` / well-known names. */
  readonly communities?: readonly (number | string)[];
  /** `global:local1:local2` or the decoded form. */
  readonly largeCommunities?: readonly (string | LargeCommunity)[];
  readonly med?: number;
  readonly localPref?: number;
  /** Explicit next hop; default: the session's local address (next hop self). */
  readonly nextHop?: string;
}

export interface PrefixCounts {
  readonly received: number;
  readonly accepted: number;
  readonly advertised: number;
}

/** RFC 4271 state names. */
export type PeerStateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export interface PeerSnapshot {
  readonly address: string;
  readonly asn: number;
  readonly description?: string;
  readonly state: PeerStateName;
  /** Seconds Established, or null. */
  readonly uptimeSeconds: number | null;
  /** Epoch ms of the last transition to Established, or null. */
  readonly establishedAt: number | null;
  readonly routerId: string | null;
  readonly holdTime: number | null;
  readonly families: readonly Family[];
  readonly prefixes: PrefixCounts;
  readonly lastError: string | null;
  /** Its routes are held as stale (graceful restart helper). */
  readonly restarting: boolean;
}

export interface PeerStateChange {
  readonly address: string;
  readonly from: PeerStateName;
  readonly to: PeerStateName;
  readonly error?: string;
}

/** One path to a prefix, as reported in snapshots and change events. */
export interface RouteInfo {
  /** Neighbor address, or "local" for our own routes. */
  readonly from: string;
  readonly nextHop: string | null;
  /** ASNs, sequences flattened; AS_SET members in braces in `asPathText`. */
  readonly asPath: readonly number[];
  readonly asPathText: string;
  readonly origin: 'igp' | 'egp' | 'incomplete';
  readonly med: number | null;
  readonly localPref: number | null;
  readonly communities: readonly string[];
  readonly largeCommunities: readonly string[];
  readonly stale: boolean;
}

export interface BestRouteChange {
  readonly prefix: string;
  readonly family: Family;
  /** The new best route, or null when the prefix is gone. */
  readonly best: RouteInfo | null;
}

export interface RouteSnapshot {
  readonly prefix: string;
  readonly family: Family;
  /** Best first. */
  readonly paths: readonly (RouteInfo & { readonly best: boolean })[];
}
