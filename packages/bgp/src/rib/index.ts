// The RIBs: Adj-RIB-In per peer, Loc-RIB with the RFC 4271 §9.1 decision process, Adj-RIB-Out per
// peer with update packing. See README in the package for how the speaker drives them.

export { AdjRibIn, type Importer } from './adj-rib-in.js';
export { AdjRibOut, type AdjRibOutOptions, type Exporter, type OutBatch } from './adj-rib-out.js';
export {
  type AttrChanges,
  AttrSet,
  AttrSetRegistry,
  asPathLength,
  attrKey,
  CommunityFlag,
  neighborAs,
  originAs,
  WellKnownCommunity,
  withAttrs,
} from './attrs.js';
export {
  type ChangeListener,
  type DecisionOptions,
  LocRib,
  type LocRibOptions,
  type MultipathOptions,
  type Route,
} from './loc-rib.js';
export { PeerType, RibPeer, type RibPeerConfig, RibPeerConfigError } from './peer.js';
export {
  compareAddresses,
  formatIpv4,
  formatIpv6,
  formatPrefixKey,
  isV4Key,
  keyLength,
  keysFromNlri,
  keyToPrefix,
  nlriFromKeys,
  PrefixFormatError,
  type PrefixKey,
  parseIpv4,
  parseIpv6,
  parsePrefixKey,
  prefixContains,
  prefixKey,
  v4Key,
  v4KeyAddr,
  v4KeyLength,
  v6Key,
} from './prefix.js';
export { PrefixIndex } from './prefix-index.js';
