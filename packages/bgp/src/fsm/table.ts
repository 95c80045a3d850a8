// RFC 4271 §8.2.2 as an explicit table: for every state, one handler per event. Each handler is
// pure: (state, event) -> { state, actions }. Paragraph references are to §8.2.2 unless noted.
//
// Deliberate departures from the letter of §8.2.2 (each also marked where it happens):
// - Idle + ManualStop/AutomaticStop: cancel a pending automatic restart (the RFC ignores them,
//   but it has no automatic restart of its own).
// - Idle + IdleHoldTimer_Expires: an automatic start (BIRD/FRR "idle hold" after errors; the RFC
//   leaves peer-oscillation damping to the implementation).
// - Idle + incoming connection events: the connection is rejected (the RFC says Idle refuses them).
// - Connect + TcpConnectionFails without DelayOpen: go to Active and retry after the (backed-off)
//   ConnectRetryTimer instead of Idle, as BIRD and FRR do, so that we keep accepting the peer's
//   connection while we wait.
// - Passive peers never initiate: Active + ConnectRetryTimer_Expires stays in Active.
// - OpenSent + NotifMsg: no NOTIFICATION is sent back (§6.4: never answer a NOTIFICATION).
// - Established + BGPHeaderErr: the header error is sent (§6.1) rather than an FSM Error.
// - FSM Error NOTIFICATIONs carry the RFC 6608 subcodes.
// - Every transition to Idle stops all timers explicitly and, when the session was started and not
//   stopped, starts the idle-hold timer that will restart it.

import type {
  BgpState,
  FsmAction,
  FsmEvent,
  FsmEventType,
  FsmState,
  NotificationSpec,
  TimerName,
  Transition,
} from './types.js';
import { keepaliveSeconds } from './types.js';

// NOTIFICATION codes used by the FSM itself (RFC 4271 §4.5, RFC 4486, RFC 6608).
const HOLD_TIMER_EXPIRED = 4;
const FSM_ERROR = 5;
const CEASE = 6;
const CEASE_ADMINISTRATIVE_SHUTDOWN = 2;
const CEASE_CONNECTION_COLLISION_RESOLUTION = 7;
const FSM_SUBCODE: Partial<Record<BgpState, number>> = { OpenSent: 1, OpenConfirm: 2, Established: 3 };

const EMPTY = new Uint8Array(0);

type Handler<K extends FsmEventType> = (s: FsmState, e: Extract<FsmEvent, { type: K }>) => Transition;
export type StateTable = { readonly [K in FsmEventType]: Handler<K> };

// ---- action helpers ----

const connect: FsmAction = { type: 'connect' };
const dropConnection: FsmAction = { type: 'dropConnection' };
const rejectConnection: FsmAction = { type: 'rejectConnection' };
const sendOpen: FsmAction = { type: 'sendOpen' };
const sendKeepalive: FsmAction = { type: 'sendKeepalive' };
const releaseResources: FsmAction = { type: 'releaseResources' };
const stop = (timer: TimerName): FsmAction => ({ type: 'stopTimer', timer });
const notify = (n: NotificationSpec): FsmAction => ({
  type: 'sendNotification',
  code: n.code,
  subcode: n.subcode,
  data: n.data,
});
const cease = (subcode: number, data: Uint8Array = EMPTY): FsmAction => notify({ code: CEASE, subcode, data });
const startConnectRetry = (attempt: number): FsmAction => ({ type: 'startRetryTimer', timer: 'connectRetry', attempt });
const startHold = (seconds: number): FsmAction => ({ type: 'startTimer', timer: 'hold', seconds });

/** Stay in the same state, with these actions. */
const stay = (s: FsmState, actions: readonly FsmAction[] = [], patch: Partial<FsmState> = {}): Transition => ({
  state: { ...s, ...patch },
  actions,
});

const go = (s: FsmState, name: BgpState, actions: readonly FsmAction[], patch: Partial<FsmState> = {}): Transition => ({
  state: { ...s, ...patch, name },
  actions,
});

type Counter = 'zero' | 'increment' | 'keep';

/**
 * The common tail of every transition to Idle: (optionally) a NOTIFICATION, all timers stopped,
 * resources released (routes deleted), the connection dropped, the ConnectRetryCounter updated,
 * and the idle-hold timer started if the session restarts by itself.
 */
function toIdle(
  s: FsmState,
  opts: { counter: Counter; notification?: FsmAction | undefined; autoRestart?: boolean },
): Transition {
  const counter =
    opts.counter === 'zero' ? 0 : opts.counter === 'increment' ? s.connectRetryCounter + 1 : s.connectRetryCounter;
  const autoRestart = opts.autoRestart ?? s.autoRestart;
  const failures = opts.counter === 'zero' ? 0 : s.failures + 1;
  const actions: FsmAction[] = [];
  if (opts.notification) actions.push(opts.notification);
  actions.push(stop('connectRetry'), stop('delayOpen'), stop('hold'), stop('keepalive'));
  actions.push(releaseResources, dropConnection);
  if (autoRestart) actions.push({ type: 'startRetryTimer', timer: 'idleHold', attempt: failures });
  return go(s, 'Idle', actions, {
    connectRetryCounter: counter,
    failures,
    autoRestart,
    delayOpenTimerRunning: false,
    holdTime: 0,
  });
}

/** Timers for OpenConfirm after an OPEN: keepalive and hold with the negotiated time, or none when 0. */
function negotiatedTimers(holdTime: number): FsmAction[] {
  if (holdTime === 0) return [stop('keepalive'), stop('hold')];
  return [{ type: 'startTimer', timer: 'keepalive', seconds: keepaliveSeconds(holdTime) }, startHold(holdTime)];
}

// ---- shared handlers ----

const ignore = <K extends FsmEventType>(s: FsmState, _e: Extract<FsmEvent, { type: K }>): Transition => stay(s);
const reject = (s: FsmState): Transition => stay(s, [rejectConnection]);

/** Idle, events 1 and 3 (and 6: damping is done by the idle-hold back-off). */
function startActive(s: FsmState, resetFailures: boolean): Transition {
  const failures = resetFailures ? 0 : s.failures;
  if (s.config.passive) return startPassive(s, resetFailures);
  return go(s, 'Connect', [startConnectRetry(failures), connect], {
    connectRetryCounter: 0,
    failures,
    autoRestart: true,
    delayOpenTimerRunning: false,
  });
}

/** Idle, events 4 and 5 (and 7). Passive peers do not run the ConnectRetryTimer (they never connect). */
function startPassive(s: FsmState, resetFailures: boolean): Transition {
  return go(s, 'Active', [], {
    connectRetryCounter: 0,
    failures: resetFailures ? 0 : s.failures,
    autoRestart: true,
    delayOpenTimerRunning: false,
  });
}

/** Connect/Active, events 16 and 17: the TCP connection is up. */
function tcpUp(s: FsmState): Transition {
  if (s.config.delayOpenTime > 0) {
    return stay(
      s,
      [stop('connectRetry'), { type: 'startTimer', timer: 'delayOpen', seconds: s.config.delayOpenTime }],
      {
        delayOpenTimerRunning: true,
      },
    );
  }
  return go(s, 'OpenSent', [stop('connectRetry'), sendOpen, startHold(s.config.largeHoldTime)]);
}

/** Connect/Active, event 12. */
function delayOpenExpires(s: FsmState): Transition {
  return go(s, 'OpenSent', [stop('connectRetry'), sendOpen, startHold(s.config.largeHoldTime)], {
    delayOpenTimerRunning: false,
  });
}

/** Connect/Active, event 20: the peer's OPEN while our DelayOpen timer runs. */
function openWhileDelayed(s: FsmState, e: { readonly holdTime: number }): Transition {
  return go(
    s,
    'OpenConfirm',
    [stop('connectRetry'), stop('delayOpen'), sendOpen, sendKeepalive, ...negotiatedTimers(e.holdTime)],
    { delayOpenTimerRunning: false, holdTime: e.holdTime },
  );
}

/** Connect/Active, events 21 and 22. */
function preOpenError(s: FsmState, e: { readonly error: NotificationSpec }): Transition {
  return toIdle(s, {
    counter: 'increment',
    notification: s.config.sendNotificationWithoutOpen ? notify(e.error) : undefined,
  });
}

/** Connect/Active, event 24. */
function preOpenVersionError(s: FsmState): Transition {
  return toIdle(s, { counter: s.delayOpenTimerRunning ? 'keep' : 'increment' });
}

/** Connect/Active "any other event": back to Idle, counter incremented. */
const preOpenOther = (s: FsmState): Transition => toIdle(s, { counter: 'increment' });

/** OpenSent/OpenConfirm/Established "any other event": FSM Error (RFC 6608 subcode), Idle. */
const fsmError = (s: FsmState): Transition =>
  toIdle(s, {
    counter: 'increment',
    notification: notify({ code: FSM_ERROR, subcode: FSM_SUBCODE[s.name] ?? 0, data: EMPTY }),
  });

/** OpenSent/OpenConfirm/Established, event 2. */
const manualStop = (s: FsmState, e: { readonly data?: Uint8Array }): Transition =>
  toIdle(s, { counter: 'zero', notification: cease(CEASE_ADMINISTRATIVE_SHUTDOWN, e.data), autoRestart: false });

/** OpenSent/OpenConfirm/Established, event 8. */
const automaticStop = (s: FsmState, e: { readonly subcode: number; readonly data?: Uint8Array }): Transition =>
  toIdle(s, { counter: 'increment', notification: cease(e.subcode, e.data), autoRestart: false });

/** OpenSent/OpenConfirm/Established, event 10. */
const holdExpires = (s: FsmState): Transition =>
  toIdle(s, { counter: 'increment', notification: notify({ code: HOLD_TIMER_EXPIRED, subcode: 0, data: EMPTY }) });

/** OpenSent/OpenConfirm/Established, events 21, 22 and 28: send the error found. */
const messageError = (s: FsmState, e: { readonly error: NotificationSpec }): Transition =>
  toIdle(s, { counter: 'increment', notification: notify(e.error) });

/** OpenSent/OpenConfirm/Established, event 23. */
const collisionDump = (s: FsmState): Transition =>
  toIdle(s, { counter: 'increment', notification: cease(CEASE_CONNECTION_COLLISION_RESOLUTION) });

/** Events 18/25 after OPEN: Idle, counter incremented, nothing sent. */
const connectionLost = (s: FsmState): Transition => toIdle(s, { counter: 'increment' });

/** Event 24 after OPEN: Idle, counter unchanged. */
const versionError = (s: FsmState): Transition => toIdle(s, { counter: 'keep' });

/** Event 11 in OpenConfirm/Established. */
const keepaliveExpires = (s: FsmState): Transition =>
  stay(
    s,
    s.holdTime > 0
      ? [sendKeepalive, { type: 'startTimer', timer: 'keepalive', seconds: keepaliveSeconds(s.holdTime) }]
      : [],
  );

const restartHold = (s: FsmState): FsmAction[] => (s.holdTime > 0 ? [startHold(s.holdTime)] : []);

// ---- the table ----

const idle: StateTable = {
  ManualStart: (s) => startActive(s, true),
  // Departure: the RFC ignores stops in Idle; here they also cancel a pending automatic restart.
  ManualStop: (s) => stay(s, [stop('idleHold')], { autoRestart: false, connectRetryCounter: 0, failures: 0 }),
  AutomaticStart: (s) => startActive(s, false),
  ManualStart_with_PassiveTcpEstablishment: (s) => startPassive(s, true),
  AutomaticStart_with_PassiveTcpEstablishment: (s) => startPassive(s, false),
  AutomaticStart_with_DampPeerOscillations: (s) => startActive(s, false),
  AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment: (s) => startPassive(s, false),
  AutomaticStop: (s) => stay(s, [stop('idleHold')], { autoRestart: false }),
  ConnectRetryTimer_Expires: ignore,
  HoldTimer_Expires: ignore,
  KeepaliveTimer_Expires: ignore,
  DelayOpenTimer_Expires: ignore,
  // Departure: the idle hold time (back-off after errors) is over: start again by ourselves.
  IdleHoldTimer_Expires: (s) => (s.autoRestart ? startActive(s, false) : stay(s)),
  // Idle refuses all incoming connections.
  TcpConnection_Valid: reject,
  Tcp_CR_Invalid: reject,
  Tcp_CR_Acked: reject,
  TcpConnectionConfirmed: reject,
  TcpConnectionFails: ignore,
  BGPOpen: ignore,
  BGPOpen_with_DelayOpenTimer_running: ignore,
  BGPHeaderErr: ignore,
  BGPOpenMsgErr: ignore,
  OpenCollisionDump: ignore,
  NotifMsgVerErr: ignore,
  NotifMsg: ignore,
  KeepAliveMsg: ignore,
  UpdateMsg: ignore,
  UpdateMsgErr: ignore,
  RouteRefreshMsg: ignore,
};

const connectState: StateTable = {
  ManualStart: ignore,
  ManualStop: (s) => toIdle(s, { counter: 'zero', autoRestart: false }),
  AutomaticStart: ignore,
  ManualStart_with_PassiveTcpEstablishment: ignore,
  AutomaticStart_with_PassiveTcpEstablishment: ignore,
  AutomaticStart_with_DampPeerOscillations: ignore,
  AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment: ignore,
  AutomaticStop: (s) => toIdle(s, { counter: 'increment', autoRestart: false }),
  // Drop the attempt, restart the timer (backed off), initiate again, keep listening.
  ConnectRetryTimer_Expires: (s) =>
    stay(s, [dropConnection, startConnectRetry(s.failures + 1), stop('delayOpen'), connect], {
      failures: s.failures + 1,
      delayOpenTimerRunning: false,
    }),
  HoldTimer_Expires: preOpenOther,
  KeepaliveTimer_Expires: preOpenOther,
  DelayOpenTimer_Expires: delayOpenExpires,
  IdleHoldTimer_Expires: preOpenOther,
  TcpConnection_Valid: ignore,
  Tcp_CR_Invalid: reject,
  Tcp_CR_Acked: tcpUp,
  TcpConnectionConfirmed: tcpUp,
  TcpConnectionFails: (s) =>
    s.delayOpenTimerRunning
      ? go(s, 'Active', [dropConnection, startConnectRetry(s.failures), stop('delayOpen')], {
          delayOpenTimerRunning: false,
        })
      : // Departure (RFC: Idle): wait in Active, listening, and retry after the backed-off timer.
        go(s, 'Active', [dropConnection, startConnectRetry(s.failures + 1)], { failures: s.failures + 1 }),
  BGPOpen: preOpenOther,
  BGPOpen_with_DelayOpenTimer_running: openWhileDelayed,
  BGPHeaderErr: preOpenError,
  BGPOpenMsgErr: preOpenError,
  OpenCollisionDump: preOpenOther,
  NotifMsgVerErr: preOpenVersionError,
  NotifMsg: preOpenOther,
  KeepAliveMsg: preOpenOther,
  UpdateMsg: preOpenOther,
  UpdateMsgErr: preOpenOther,
  RouteRefreshMsg: preOpenOther,
};

const active: StateTable = {
  ManualStart: ignore,
  ManualStop: (s, e) =>
    toIdle(s, {
      counter: 'zero',
      autoRestart: false,
      notification:
        s.delayOpenTimerRunning && s.config.sendNotificationWithoutOpen
          ? cease(CEASE_ADMINISTRATIVE_SHUTDOWN, e.data)
          : undefined,
    }),
  AutomaticStart: ignore,
  ManualStart_with_PassiveTcpEstablishment: ignore,
  AutomaticStart_with_PassiveTcpEstablishment: ignore,
  AutomaticStart_with_DampPeerOscillations: ignore,
  AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment: ignore,
  AutomaticStop: (s) => toIdle(s, { counter: 'increment', autoRestart: false }),
  // Departure for passive peers: they never initiate.
  ConnectRetryTimer_Expires: (s) =>
    s.config.passive ? stay(s) : go(s, 'Connect', [startConnectRetry(s.failures), connect]),
  HoldTimer_Expires: preOpenOther,
  KeepaliveTimer_Expires: preOpenOther,
  DelayOpenTimer_Expires: delayOpenExpires,
  IdleHoldTimer_Expires: preOpenOther,
  TcpConnection_Valid: ignore,
  Tcp_CR_Invalid: reject,
  Tcp_CR_Acked: tcpUp,
  TcpConnectionConfirmed: tcpUp,
  TcpConnectionFails: (s) => toIdle(s, { counter: 'increment' }),
  BGPOpen: preOpenOther,
  BGPOpen_with_DelayOpenTimer_running: openWhileDelayed,
  BGPHeaderErr: preOpenError,
  BGPOpenMsgErr: preOpenError,
  OpenCollisionDump: preOpenOther,
  NotifMsgVerErr: preOpenVersionError,
  NotifMsg: preOpenOther,
  KeepAliveMsg: preOpenOther,
  UpdateMsg: preOpenOther,
  UpdateMsgErr: preOpenOther,
  RouteRefreshMsg: preOpenOther,
};

const openSent: StateTable = {
  ManualStart: ignore,
  ManualStop: manualStop,
  AutomaticStart: ignore,
  ManualStart_with_PassiveTcpEstablishment: ignore,
  AutomaticStart_with_PassiveTcpEstablishment: ignore,
  AutomaticStart_with_DampPeerOscillations: ignore,
  AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment: ignore,
  AutomaticStop: automaticStop,
  ConnectRetryTimer_Expires: fsmError,
  HoldTimer_Expires: holdExpires,
  KeepaliveTimer_Expires: fsmError,
  DelayOpenTimer_Expires: fsmError,
  IdleHoldTimer_Expires: fsmError,
  // A second connection is tracked by the shell until its OPEN arrives (§6.8).
  TcpConnection_Valid: ignore,
  Tcp_CR_Invalid: reject,
  Tcp_CR_Acked: ignore,
  TcpConnectionConfirmed: ignore,
  TcpConnectionFails: (s) =>
    go(s, 'Active', [dropConnection, stop('hold'), startConnectRetry(s.failures + 1)], {
      failures: s.failures + 1,
    }),
  // Collision detection runs in the shell, which answers with OpenCollisionDump when needed.
  BGPOpen: (s, e) =>
    go(s, 'OpenConfirm', [stop('delayOpen'), stop('connectRetry'), sendKeepalive, ...negotiatedTimers(e.holdTime)], {
      delayOpenTimerRunning: false,
      holdTime: e.holdTime,
    }),
  BGPOpen_with_DelayOpenTimer_running: fsmError,
  BGPHeaderErr: messageError,
  BGPOpenMsgErr: messageError,
  OpenCollisionDump: collisionDump,
  NotifMsgVerErr: versionError,
  // Departure: §8.2.2 says FSM Error, but §6.4 forbids answering a NOTIFICATION.
  NotifMsg: connectionLost,
  KeepAliveMsg: fsmError,
  UpdateMsg: fsmError,
  UpdateMsgErr: fsmError,
  RouteRefreshMsg: fsmError,
};

const openConfirm: StateTable = {
  ManualStart: ignore,
  ManualStop: manualStop,
  AutomaticStart: ignore,
  ManualStart_with_PassiveTcpEstablishment: ignore,
  AutomaticStart_with_PassiveTcpEstablishment: ignore,
  AutomaticStart_with_DampPeerOscillations: ignore,
  AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment: ignore,
  AutomaticStop: automaticStop,
  ConnectRetryTimer_Expires: fsmError,
  HoldTimer_Expires: holdExpires,
  KeepaliveTimer_Expires: keepaliveExpires,
  DelayOpenTimer_Expires: fsmError,
  IdleHoldTimer_Expires: fsmError,
  TcpConnection_Valid: ignore,
  Tcp_CR_Invalid: reject,
  Tcp_CR_Acked: ignore,
  TcpConnectionConfirmed: ignore,
  TcpConnectionFails: connectionLost,
  // §6.8 runs in the shell; if this connection loses, the shell sends OpenCollisionDump.
  BGPOpen: ignore,
  BGPOpen_with_DelayOpenTimer_running: fsmError,
  BGPHeaderErr: messageError,
  BGPOpenMsgErr: messageError,
  OpenCollisionDump: collisionDump,
  NotifMsgVerErr: versionError,
  NotifMsg: connectionLost,
  KeepAliveMsg: (s) => go(s, 'Established', [...restartHold(s), { type: 'established' }], { failures: 0 }),
  UpdateMsg: fsmError,
  UpdateMsgErr: fsmError,
  RouteRefreshMsg: fsmError,
};

const established: StateTable = {
  ManualStart: ignore,
  ManualStop: manualStop,
  AutomaticStart: ignore,
  ManualStart_with_PassiveTcpEstablishment: ignore,
  AutomaticStart_with_PassiveTcpEstablishment: ignore,
  AutomaticStart_with_DampPeerOscillations: ignore,
  AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment: ignore,
  AutomaticStop: automaticStop,
  ConnectRetryTimer_Expires: fsmError,
  HoldTimer_Expires: holdExpires,
  KeepaliveTimer_Expires: keepaliveExpires,
  DelayOpenTimer_Expires: fsmError,
  IdleHoldTimer_Expires: fsmError,
  TcpConnection_Valid: ignore,
  Tcp_CR_Invalid: reject,
  Tcp_CR_Acked: ignore,
  TcpConnectionConfirmed: ignore,
  TcpConnectionFails: connectionLost,
  // CollisionDetectEstablishedState is FALSE: the established connection always wins, and an OPEN
  // on it is ignored (an OPEN on a second connection is the shell's business).
  BGPOpen: ignore,
  BGPOpen_with_DelayOpenTimer_running: fsmError,
  // Departure: §6.1 (a header error is reported as such) over §8.2.2's FSM Error.
  BGPHeaderErr: messageError,
  BGPOpenMsgErr: fsmError,
  OpenCollisionDump: collisionDump,
  NotifMsgVerErr: connectionLost,
  NotifMsg: connectionLost,
  KeepAliveMsg: (s) => stay(s, restartHold(s)),
  UpdateMsg: (s) => stay(s, [{ type: 'deliverUpdate' }, ...restartHold(s)]),
  UpdateMsgErr: messageError,
  RouteRefreshMsg: (s) => stay(s, [{ type: 'deliverRouteRefresh' }, ...restartHold(s)]),
};

/** The whole table: FSM_TABLE[state][event]. */
export const FSM_TABLE: { readonly [S in BgpState]: StateTable } = {
  Idle: idle,
  Connect: connectState,
  Active: active,
  OpenSent: openSent,
  OpenConfirm: openConfirm,
  Established: established,
};

/** The pure transition function. */
export function transition(state: FsmState, event: FsmEvent): Transition {
  const handler = FSM_TABLE[state.name][event.type] as (s: FsmState, e: FsmEvent) => Transition;
  return handler(state, event);
}
