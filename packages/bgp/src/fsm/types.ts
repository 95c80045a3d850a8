// The RFC 4271 §8 finite state machine: states, events (with the RFC's names and numbers) and the
// actions a transition asks the shell to perform. Plain data; the table lives in table.ts.

/** RFC 4271 §8.2.2 session states. */
export const BgpState = {
  Idle: 'Idle',
  Connect: 'Connect',
  Active: 'Active',
  OpenSent: 'OpenSent',
  OpenConfirm: 'OpenConfirm',
  Established: 'Established',
} as const;
export type BgpState = (typeof BgpState)[keyof typeof BgpState];
export const BGP_STATES: readonly BgpState[] = Object.values(BgpState);

/** A NOTIFICATION to send or that was received: code, subcode and data (RFC 4271 §4.5). */
export interface NotificationSpec {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
}

/**
 * RFC 4271 §8.1 events, by their RFC names (the number is in the comment). `RouteRefreshMsg` is a
 * local addition (RFC 2918 messages are not FSM events in RFC 4271, but they must restart the hold
 * timer in Established and are unexpected in OpenSent/OpenConfirm).
 */
export type FsmEvent =
  | { readonly type: 'ManualStart' } // 1
  | { readonly type: 'ManualStop'; readonly data?: Uint8Array } // 2; data: shutdown communication (RFC 9003)
  | { readonly type: 'AutomaticStart' } // 3
  | { readonly type: 'ManualStart_with_PassiveTcpEstablishment' } // 4
  | { readonly type: 'AutomaticStart_with_PassiveTcpEstablishment' } // 5
  | { readonly type: 'AutomaticStart_with_DampPeerOscillations' } // 6
  | { readonly type: 'AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment' } // 7
  | { readonly type: 'AutomaticStop'; readonly subcode: number; readonly data?: Uint8Array } // 8 (Cease subcode)
  | { readonly type: 'ConnectRetryTimer_Expires' } // 9
  | { readonly type: 'HoldTimer_Expires' } // 10
  | { readonly type: 'KeepaliveTimer_Expires' } // 11
  | { readonly type: 'DelayOpenTimer_Expires' } // 12
  | { readonly type: 'IdleHoldTimer_Expires' } // 13
  | { readonly type: 'TcpConnection_Valid' } // 14
  | { readonly type: 'Tcp_CR_Invalid' } // 15
  | { readonly type: 'Tcp_CR_Acked' } // 16
  | { readonly type: 'TcpConnectionConfirmed' } // 17
  | { readonly type: 'TcpConnectionFails'; readonly reason?: string } // 18
  | { readonly type: 'BGPOpen'; readonly holdTime: number } // 19; holdTime: the negotiated one (seconds)
  | { readonly type: 'BGPOpen_with_DelayOpenTimer_running'; readonly holdTime: number } // 20
  | { readonly type: 'BGPHeaderErr'; readonly error: NotificationSpec } // 21
  | { readonly type: 'BGPOpenMsgErr'; readonly error: NotificationSpec } // 22
  | { readonly type: 'OpenCollisionDump' } // 23
  | { readonly type: 'NotifMsgVerErr'; readonly notification: NotificationSpec } // 24
  | { readonly type: 'NotifMsg'; readonly notification: NotificationSpec } // 25
  | { readonly type: 'KeepAliveMsg' } // 26
  | { readonly type: 'UpdateMsg' } // 27
  | { readonly type: 'UpdateMsgErr'; readonly error: NotificationSpec } // 28
  | { readonly type: 'RouteRefreshMsg' }; // local

export type FsmEventType = FsmEvent['type'];

/** Every event type, in RFC order (the local RouteRefreshMsg last). */
export const FSM_EVENT_TYPES = [
  'ManualStart',
  'ManualStop',
  'AutomaticStart',
  'ManualStart_with_PassiveTcpEstablishment',
  'AutomaticStart_with_PassiveTcpEstablishment',
  'AutomaticStart_with_DampPeerOscillations',
  'AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment',
  'AutomaticStop',
  'ConnectRetryTimer_Expires',
  'HoldTimer_Expires',
  'KeepaliveTimer_Expires',
  'DelayOpenTimer_Expires',
  'IdleHoldTimer_Expires',
  'TcpConnection_Valid',
  'Tcp_CR_Invalid',
  'Tcp_CR_Acked',
  'TcpConnectionConfirmed',
  'TcpConnectionFails',
  'BGPOpen',
  'BGPOpen_with_DelayOpenTimer_running',
  'BGPHeaderErr',
  'BGPOpenMsgErr',
  'OpenCollisionDump',
  'NotifMsgVerErr',
  'NotifMsg',
  'KeepAliveMsg',
  'UpdateMsg',
  'UpdateMsgErr',
  'RouteRefreshMsg',
] as const satisfies readonly FsmEventType[];

/** Timers with a fixed duration given by the FSM. */
export type FixedTimer = 'hold' | 'keepalive' | 'delayOpen';
/** Timers whose duration the shell computes with back-off (exponential, jittered, capped) from `attempt`. */
export type RetryTimer = 'connectRetry' | 'idleHold';
export type TimerName = FixedTimer | RetryTimer;

/**
 * What a transition asks the shell to do, in order. `dropConnection` closes the connection the FSM
 * instance runs on (after flushing a NOTIFICATION sent just before); `rejectConnection` closes the
 * connection that the event was about without using it.
 */
export type FsmAction =
  | { readonly type: 'connect' }
  | { readonly type: 'dropConnection' }
  | { readonly type: 'rejectConnection' }
  | { readonly type: 'sendOpen' }
  | { readonly type: 'sendKeepalive' }
  | { readonly type: 'sendNotification'; readonly code: number; readonly subcode: number; readonly data: Uint8Array }
  | { readonly type: 'startTimer'; readonly timer: FixedTimer; readonly seconds: number }
  | { readonly type: 'startRetryTimer'; readonly timer: RetryTimer; readonly attempt: number }
  | { readonly type: 'stopTimer'; readonly timer: TimerName }
  | { readonly type: 'releaseResources' }
  | { readonly type: 'deliverUpdate' }
  | { readonly type: 'deliverRouteRefresh' }
  | { readonly type: 'established' };

/** The FSM's optional session attributes (RFC 4271 §8.1.1) that Tortie implements. */
export interface FsmConfig {
  /** PassiveTcpEstablishment: never initiate a connection; wait for the peer's. */
  readonly passive: boolean;
  /** DelayOpen with its DelayOpenTime in seconds (0 = off). */
  readonly delayOpenTime: number;
  /** SendNOTIFICATIONwithoutOPEN. */
  readonly sendNotificationWithoutOpen: boolean;
  /** The "large value" the hold timer gets in OpenSent (RFC suggests 4 minutes). */
  readonly largeHoldTime: number;
}

export const DEFAULT_FSM_CONFIG: FsmConfig = {
  passive: false,
  delayOpenTime: 0,
  sendNotificationWithoutOpen: true,
  largeHoldTime: 240,
};

/** The FSM's whole state: the RFC state and the session attributes that transitions read or write. */
export interface FsmState {
  readonly name: BgpState;
  readonly config: FsmConfig;
  /** RFC ConnectRetryCounter: reset by ManualStop, incremented on errors. */
  readonly connectRetryCounter: number;
  /**
   * Consecutive failures since the last ManualStart or Established: the back-off level of the
   * connect-retry and idle-hold timers.
   */
  readonly failures: number;
  readonly delayOpenTimerRunning: boolean;
  /** Negotiated hold time in seconds (0: no hold timer and no keepalives). */
  readonly holdTime: number;
  /** Set by the start events, cleared by ManualStop/AutomaticStop: Idle restarts after the idle hold time. */
  readonly autoRestart: boolean;
}

export interface Transition {
  readonly state: FsmState;
  readonly actions: readonly FsmAction[];
}

export function initialFsmState(config: Partial<FsmConfig> = {}): FsmState {
  return {
    name: 'Idle',
    config: { ...DEFAULT_FSM_CONFIG, ...config },
    connectRetryCounter: 0,
    failures: 0,
    delayOpenTimerRunning: false,
    holdTime: 0,
    autoRestart: false,
  };
}

/** RFC 4271 §10: KeepaliveTime is one third of the hold time (at least a second). */
export function keepaliveSeconds(holdTime: number): number {
  return Math.max(1, Math.floor(holdTime / 3));
}
