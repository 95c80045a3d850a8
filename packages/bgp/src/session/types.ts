import type { BackoffPolicy } from '../fsm/backoff.js';
import type { BgpState } from '../fsm/types.js';
import type {
  AddPathMode,
  Capabilities,
  DecodeResult,
  Family,
  FastUpdate,
  GracefulRestartCapability,
  OpenMessage,
  SessionCodecOptions,
} from '../wire/index.js';

export interface SessionConfig {
  readonly localAs: number;
  /** Our BGP identifier (dotted quad). */
  readonly routerId: string;
  readonly peerAddress: string;
  /** Default 179. */
  readonly peerPort?: number;
  readonly peerAs: number;
  /** Never connect; wait for the peer (default false). */
  readonly passive?: boolean;
  /** Seconds, 0 or ≥ 3 (default 90). */
  readonly holdTime?: number;
  /** Families to enable (default ['ipv4-unicast']). */
  readonly families?: readonly Family[];
  /** Further capabilities to advertise (route refresh is on unless set false). */
  readonly capabilities?: {
    readonly routeRefresh?: boolean;
    readonly enhancedRouteRefresh?: boolean;
    readonly extendedMessage?: boolean;
    readonly addPath?: readonly { readonly family: Family; readonly mode: AddPathMode }[];
    readonly fqdn?: { readonly hostname: string; readonly domain: string };
  };
  /**
   * Graceful restart (RFC 4724) to advertise: restart time, the R bit (we restarted) and the
   * families whose forwarding state we kept (F bit).
   */
  readonly gracefulRestart?: {
    readonly restartTime: number;
    readonly restarting?: boolean;
    readonly forwarding?: readonly Family[];
  };
  /** eBGP multihop: the TTL to send with (default 1 for eBGP; iBGP uses the system default). */
  readonly multihop?: number;
  /** GTSM (RFC 5082) with this many hops (1 = directly connected): send TTL 255, accept ≥ 256 − hops. */
  readonly ttlSecurityHops?: number;
  /** DelayOpen time in seconds (0 or absent: off). */
  readonly delayOpen?: number;
  /** Source address for outgoing connections. */
  readonly localAddress?: string;
  readonly connectRetry?: BackoffPolicy;
  readonly idleHold?: BackoffPolicy;
  /**
   * Deliver received UPDATEs as `fastUpdate` events (decodeUpdateFast: IPv4 prefixes as packed
   * numbers, no object per prefix) instead of `update` events. Error handling (NOTIFICATION,
   * RFC 7606 treat-as-withdraw), End-of-RIB detection and hold-timer semantics are the same.
   */
  readonly fastUpdates?: boolean;
  /** Send a NOTIFICATION for errors found before our OPEN went out (default true). */
  readonly sendNotificationWithoutOpen?: boolean;
}

/** What both OPENs agreed on; available from OpenConfirm on. */
export interface NegotiatedSession {
  readonly peerAs: number;
  readonly peerId: string;
  /** Seconds; 0: no hold timer and no keepalives. */
  readonly holdTime: number;
  readonly keepaliveTime: number;
  readonly families: readonly Family[];
  readonly routeRefresh: boolean;
  readonly enhancedRouteRefresh: boolean;
  readonly codec: SessionCodecOptions;
  /** The peer's graceful restart capability (restart time, R bit, families with the F bit), when sent. */
  readonly peerGracefulRestart?: GracefulRestartCapability;
  /** Ours, when advertised. */
  readonly localGracefulRestart?: GracefulRestartCapability;
  readonly localCapabilities: Capabilities;
  readonly remoteOpen: OpenMessage;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/** Why the session last went down. */
export type SessionError =
  | {
      readonly kind: 'notification-sent' | 'notification-received';
      readonly code: number;
      readonly subcode: number;
      readonly data: Uint8Array;
      /** Code and subcode in words. */
      readonly description: string;
      /** RFC 9003 shutdown communication (Cease/Administrative Shutdown or Reset). */
      readonly shutdownMessage?: string;
    }
  | { readonly kind: 'connection'; readonly message: string };

export type SessionEvent =
  | { readonly type: 'state'; readonly from: BgpState; readonly to: BgpState; readonly lastError?: SessionError }
  | { readonly type: 'established'; readonly negotiated: NegotiatedSession }
  /**
   * An Established session ended. `retainStale`: the peer negotiated graceful restart and the
   * session ended without a NOTIFICATION, so the RIB keeps its routes as stale for
   * `peerGracefulRestart.restartTime` (RFC 4724 §4.2) instead of deleting them.
   */
  | {
      readonly type: 'down';
      readonly negotiated: NegotiatedSession;
      readonly retainStale: boolean;
      readonly error?: SessionError;
    }
  /** A received UPDATE (End-of-RIB markers come as `endOfRib` instead). */
  | { readonly type: 'update'; readonly update: Exclude<DecodeResult, { kind: 'ignored' }> }
  /** A received UPDATE, with `fastUpdates` on (End-of-RIB markers come as `endOfRib` instead). */
  | { readonly type: 'fastUpdate'; readonly update: FastUpdate }
  | { readonly type: 'endOfRib'; readonly family: Family }
  | { readonly type: 'routeRefresh'; readonly family: Family; readonly subtype: 0 | 1 | 2 }
  | { readonly type: 'warning'; readonly message: string };
