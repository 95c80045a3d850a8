// The message model shared by the codec, the session and the RIB. Plain data, no behaviour.
// Owned by the wire codec; change it only together with its users.

/** RFC 4271 §4.1 message types (plus ROUTE-REFRESH, RFC 2918). */
export const MessageType = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Address family identifiers (IANA) and subsequent AFI. */
export const Afi = { IPV4: 1, IPV6: 2 } as const;
export type Afi = (typeof Afi)[keyof typeof Afi];
export const Safi = { UNICAST: 1 } as const;
export type Safi = (typeof Safi)[keyof typeof Safi];

/** The families Tortie speaks, by name (as in the daemon config). */
export const Family = { IPV4_UNICAST: 'ipv4-unicast', IPV6_UNICAST: 'ipv6-unicast' } as const;
export type Family = (typeof Family)[keyof typeof Family];

/**
 * A prefix in compact form. IPv4: `addr` is the address as an unsigned 32-bit number.
 * IPv6: `addr` holds the 16 address bytes. Host bits beyond `length` are zero.
 */
export type Prefix =
  | { readonly family: 'ipv4-unicast'; readonly addr: number; readonly length: number }
  | {
      readonly family: 'ipv6-unicast';
      readonly addr: Uint8Array;
      readonly length: number;
    };

/** ADD-PATH (RFC 7911) path identifier; present only when add-path is negotiated for the family and direction. */
export interface Nlri {
  readonly prefix: Prefix;
  readonly pathId?: number;
}

// ---- OPEN ----

export const AddPathMode = { RECEIVE: 1, SEND: 2, BOTH: 3 } as const;
export type AddPathMode = (typeof AddPathMode)[keyof typeof AddPathMode];

export interface GracefulRestartCapability {
  /** R bit: the sender has restarted. */
  readonly restarting: boolean;
  /** N bit (RFC 8538), parsed and kept; Tortie does not set it. */
  readonly notification: boolean;
  /** Seconds, 12 bits. */
  readonly restartTime: number;
  /** Per family: the F bit (forwarding state preserved). */
  readonly families: readonly { readonly family: Family; readonly forwarding: boolean }[];
}

/** Capabilities as parsed from or to be put into an OPEN (RFC 5492). */
export interface Capabilities {
  readonly multiprotocol: readonly Family[];
  readonly routeRefresh: boolean;
  readonly enhancedRouteRefresh: boolean;
  /** 4-octet AS number (RFC 6793) when the capability is present. */
  readonly fourOctetAs?: number;
  readonly gracefulRestart?: GracefulRestartCapability;
  readonly extendedMessage: boolean;
  readonly addPath: readonly { readonly family: Family; readonly mode: AddPathMode }[];
  readonly fqdn?: { readonly hostname: string; readonly domain: string };
  /** Capabilities we do not understand: kept for display, otherwise ignored. */
  readonly unknown: readonly { readonly code: number; readonly value: Uint8Array }[];
}

export interface OpenMessage {
  readonly type: typeof MessageType.OPEN;
  readonly version: number;
  /** The 2-octet "My Autonomous System" field (AS_TRANS 23456 when the real AS needs 4 octets). */
  readonly myAs: number;
  readonly holdTime: number;
  /** Dotted quad. */
  readonly bgpId: string;
  readonly capabilities: Capabilities;
}

// ---- UPDATE ----

export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;
export type Origin = (typeof Origin)[keyof typeof Origin];

export const AsPathSegmentType = { SET: 1, SEQUENCE: 2, CONFED_SEQUENCE: 3, CONFED_SET: 4 } as const;
export type AsPathSegmentType = (typeof AsPathSegmentType)[keyof typeof AsPathSegmentType];

export interface AsPathSegment {
  readonly type: AsPathSegmentType;
  readonly asns: readonly number[];
}

export interface LargeCommunity {
  readonly global: number;
  readonly local1: number;
  readonly local2: number;
}

/** An attribute Tortie does not interpret; passed on (with Partial set) when optional transitive. */
export interface UnknownAttribute {
  readonly flags: number;
  readonly code: number;
  readonly value: Uint8Array;
}

/**
 * Path attributes of an UPDATE in decoded form. AS numbers are always 4-octet here: the codec
 * merges AS4_PATH/AS4_AGGREGATOR from 2-octet peers and produces them towards 2-octet peers.
 */
export interface PathAttributes {
  readonly origin?: Origin;
  readonly asPath?: readonly AsPathSegment[];
  /** Dotted quad (NEXT_HOP attribute, IPv4 NLRI in the UPDATE body). */
  readonly nextHop?: string;
  readonly med?: number;
  readonly localPref?: number;
  readonly atomicAggregate?: boolean;
  readonly aggregator?: { readonly asn: number; readonly address: string };
  /** RFC 1997 communities as 32-bit unsigned numbers (asn << 16 | value). */
  readonly communities?: readonly number[];
  /** RFC 4360, 8 bytes each. */
  readonly extendedCommunities?: readonly Uint8Array[];
  readonly largeCommunities?: readonly LargeCommunity[];
  readonly originatorId?: string;
  readonly clusterList?: readonly string[];
  readonly unknown?: readonly UnknownAttribute[];
}

export interface MpReach {
  readonly family: Family;
  /** Global next hop (IPv4 dotted quad or IPv6 text) and, for IPv6, the optional link-local one. */
  readonly nextHop: string;
  readonly linkLocalNextHop?: string;
  readonly nlri: readonly Nlri[];
}

export interface MpUnreach {
  readonly family: Family;
  readonly withdrawn: readonly Nlri[];
}

export interface UpdateMessage {
  readonly type: typeof MessageType.UPDATE;
  /** IPv4 unicast withdrawals in the UPDATE body. */
  readonly withdrawn: readonly Nlri[];
  readonly attributes: PathAttributes;
  readonly mpReach?: MpReach;
  readonly mpUnreach?: MpUnreach;
  /** IPv4 unicast NLRI in the UPDATE body. */
  readonly nlri: readonly Nlri[];
}

// ---- NOTIFICATION, KEEPALIVE, ROUTE-REFRESH ----

export interface NotificationMessage {
  readonly type: typeof MessageType.NOTIFICATION;
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
}

export interface KeepaliveMessage {
  readonly type: typeof MessageType.KEEPALIVE;
}

/** RFC 2918; `subtype` per RFC 7313: 0 normal request, 1 BoRR, 2 EoRR. */
export interface RouteRefreshMessage {
  readonly type: typeof MessageType.ROUTE_REFRESH;
  readonly family: Family;
  readonly subtype: 0 | 1 | 2;
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/**
 * What the codec must know about the session to read and write UPDATEs. Negotiated once the
 * OPENs are exchanged; before that, the defaults (2-octet AS, no add-path, 4096-byte messages).
 */
export interface SessionCodecOptions {
  readonly fourOctetAs: boolean;
  /** Families for which we receive path identifiers. */
  readonly addPathReceive: ReadonlySet<Family>;
  /** Families for which we send path identifiers. */
  readonly addPathSend: ReadonlySet<Family>;
  /** 65535 when RFC 8654 extended messages are negotiated, else 4096. */
  readonly maxMessageLength: number;
}

export const DEFAULT_CODEC_OPTIONS: SessionCodecOptions = {
  fourOctetAs: false,
  addPathReceive: new Set(),
  addPathSend: new Set(),
  maxMessageLength: 4096,
};
