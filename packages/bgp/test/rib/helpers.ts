import { LocRib, type LocRibOptions, parsePrefixKey, type RibPeer, type RibPeerConfig } from '../../src/rib/index.js';
import type { AsPathSegment, PathAttributes } from '../../src/wire/types.js';

export const k = (text: string) => parsePrefixKey(text);

export function seq(...asns: number[]): AsPathSegment {
  return { type: 2, asns };
}

export function attrs(a: PathAttributes = {}): PathAttributes {
  return { origin: 0, asPath: [seq(65001)], nextHop: '192.0.2.1', ...a };
}

let n = 0;
export function peerCfg(over: Partial<RibPeerConfig> = {}): RibPeerConfig {
  n++;
  return {
    name: `p${n}`,
    address: `10.9.${(n >> 8) & 255}.${n & 255}`,
    routerId: `10.9.${(n >> 8) & 255}.${n & 255}`,
    asn: 65001,
    type: 'ebgp',
    ...over,
  };
}

export function ribWith(options: LocRibOptions = {}): { rib: LocRib; add: (over?: Partial<RibPeerConfig>) => RibPeer } {
  const rib = new LocRib(options);
  return { rib, add: (over = {}) => rib.addPeer(peerCfg(over)) };
}
