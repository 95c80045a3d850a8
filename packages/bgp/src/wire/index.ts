// The wire codec's public face. Pure: no I/O, no timers.

export {
  ATTRIBUTES,
  AttrFlag,
  type AttributeSpec,
  AttrType,
  community,
  ErrorAction,
  formatCommunity,
  mergeAs4Path,
  WellKnownCommunity,
} from './attributes.js';
export { fromHex, toHex } from './bytes.js';
export {
  AS_TRANS,
  CapabilityCode,
  NO_CAPABILITIES,
  negotiateCodecOptions,
  negotiatedFamilies,
} from './capabilities.js';
export { type DecodeResult, decodeMessage, encodeMessage } from './codec.js';
export {
  BgpError,
  CeaseSubcode,
  carriesShutdownCommunication,
  decodeShutdownCommunication,
  describeNotification,
  EncodeError,
  encodeShutdownCommunication,
  FsmSubcode,
  HeaderSubcode,
  MAX_SHUTDOWN_COMMUNICATION_BYTES,
  NotificationCode,
  OpenSubcode,
  RouteRefreshSubcode,
  type ShutdownCommunication,
  UpdateSubcode,
} from './errors.js';
export { afiSafi, FAMILIES, type FamilyCodec, familyFromAfiSafi, type NextHopAddresses } from './families.js';
export {
  HEADER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageFramer,
} from './framing.js';
export {
  encodeKeepalive,
  KEEPALIVE,
  notificationFromError,
  RouteRefreshSubtype,
} from './notification.js';
export { BGP_VERSION, localOpen, peerAsn } from './open.js';
export {
  formatIpv6,
  formatPrefix,
  ipv4Mask,
  ipv4ToNumber,
  numberToIpv4,
  PrefixError,
  packedIpv4Addr,
  packedIpv4Length,
  packIpv4Prefix,
  parseIpv6,
  parsePrefix,
  prefixEquals,
  tryIpv4ToNumber,
  tryParseIpv6,
  unpackIpv4Prefix,
} from './prefix.js';
export * from './types.js';
export {
  decodeUpdateFast,
  encodeIpv4Attributes,
  encodeUpdates,
  encodeWithdrawals,
  endOfRib,
  type FastUpdate,
  fastUpdateEndOfRib,
  isEndOfRib,
  type UpdateNextHop,
} from './update.js';
