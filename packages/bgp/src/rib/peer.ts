// A peer as the RIB sees it: what the decision process and the advertisement rules need.

import { parseIpv4, parseIpv6 } from './prefix.js';

export const PeerType = { LOCAL: 'local', EBGP: 'ebgp', IBGP: 'ibgp' } as const;
export type PeerType = (typeof PeerType)[keyof typeof PeerType];

export interface RibPeerConfig {
  /** Display name, unique per RIB (e.g. the neighbor address or "local"). */
  readonly name: string;
  /** Session peer address (IPv4 or IPv6 text); the last tie-breaker of the decision process. */
  readonly address: string;
  /** The peer's BGP identifier (dotted quad). */
  readonly routerId: string;
  /** The peer's AS number. */
  readonly asn: number;
  /** `local` for routes this speaker originates; otherwise eBGP or iBGP by AS numbers. */
  readonly type: PeerType;
  /** Route-reflector client (iBGP peers only, when this speaker reflects). */
  readonly rrClient?: boolean;
}

export class RibPeerConfigError extends Error {
  override readonly name = 'RibPeerConfigError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`peer ${field}: ${message}`);
    this.field = field;
  }
}

/** A sortable string for an address: IPv4 before IPv6, numeric order within a family. */
export function addressSortKey(address: string): string {
  const v4 = parseIpv4(address);
  if (v4 !== null) return `4${v4.toString(16).padStart(8, '0')}`;
  const v6 = parseIpv6(address);
  if (v6) {
    let s = '6';
    for (const b of v6) s += b.toString(16).padStart(2, '0');
    return s;
  }
  return `z${address}`;
}

export class RibPeer {
  /** Small integer, unique among the RIB's current peers. */
  readonly index: number;
  readonly name: string;
  readonly address: string;
  readonly addressSort: string;
  readonly routerId: string;
  readonly routerIdNum: number;
  readonly asn: number;
  readonly type: PeerType;
  readonly rrClient: boolean;
  /** Number of routes from this peer currently in the RIB (post import policy). */
  routeCount = 0;
  /** Number of those marked stale (graceful restart). */
  staleCount = 0;

  constructor(index: number, config: RibPeerConfig) {
    const id = parseIpv4(config.routerId);
    if (id === null)
      throw new RibPeerConfigError('routerId', `${JSON.stringify(config.routerId)} is not a dotted quad`);
    if (!Number.isInteger(config.asn) || config.asn < 0 || config.asn > 0xffffffff)
      throw new RibPeerConfigError('asn', `${config.asn} is not a 32-bit AS number`);
    this.index = index;
    this.name = config.name;
    this.address = config.address;
    this.addressSort = addressSortKey(config.address);
    this.routerId = config.routerId;
    this.routerIdNum = id;
    this.asn = config.asn;
    this.type = config.type;
    this.rrClient = config.rrClient ?? false;
  }
}
