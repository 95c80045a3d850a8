// Every (state, event) cell of the RFC 4271 §8.2.2 table, driven through the pure transition
// function. Expected actions are written out as short strings so a failing cell reads like the RFC.

import { describe, expect, it } from 'vitest';
import {
  BGP_STATES,
  type BgpState,
  FSM_EVENT_TYPES,
  FSM_TABLE,
  type FsmAction,
  type FsmEvent,
  type FsmEventType,
  type FsmState,
  initialFsmState,
  transition,
} from '../../src/fsm/index.js';

const ERR = { code: 2, subcode: 2, data: Uint8Array.of(0xfd, 0xe8) };
const UPD_ERR = { code: 3, subcode: 1, data: new Uint8Array(0) };
const NOTIF = { code: 6, subcode: 2, data: new Uint8Array(0) };
const VER = { code: 2, subcode: 1, data: Uint8Array.of(0, 4) };
const SHUTDOWN = new TextEncoder().encode('bye');

function event(type: FsmEventType): FsmEvent {
  switch (type) {
    case 'ManualStop':
      return { type, data: SHUTDOWN };
    case 'AutomaticStop':
      return { type, subcode: 3 };
    case 'BGPOpen':
    case 'BGPOpen_with_DelayOpenTimer_running':
      return { type, holdTime: 30 };
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return { type, error: ERR };
    case 'UpdateMsgErr':
      return { type, error: UPD_ERR };
    case 'NotifMsg':
      return { type, notification: NOTIF };
    case 'NotifMsgVerErr':
      return { type, notification: VER };
    case 'TcpConnectionFails':
      return { type, reason: 'ECONNREFUSED' };
    default:
      return { type } as FsmEvent;
  }
}

function fmt(a: FsmAction): string {
  switch (a.type) {
    case 'sendNotification':
      return `notify:${a.code}/${a.subcode}${a.data.length ? `:${Buffer.from(a.data).toString('hex')}` : ''}`;
    case 'startTimer':
      return `start:${a.timer}:${a.seconds}`;
    case 'startRetryTimer':
      return `retry:${a.timer}:${a.attempt}`;
    case 'stopTimer':
      return `stop:${a.timer}`;
    default:
      return a.type;
  }
}

/** The common tail of a transition to Idle (all timers stopped, resources released, connection dropped). */
const TAIL = [
  'stop:connectRetry',
  'stop:delayOpen',
  'stop:hold',
  'stop:keepalive',
  'releaseResources',
  'dropConnection',
];
/** ...and the idle-hold restart at back-off level n. */
const idle = (n: number, ...before: string[]) => [...before, ...TAIL, `retry:idleHold:${n}`];
const idleNoRestart = (...before: string[]) => [...before, ...TAIL];

const BYE = Buffer.from(SHUTDOWN).toString('hex');

interface Cell {
  readonly to: BgpState;
  readonly actions: readonly string[];
  readonly counter?: number;
}

// Base states: started (autoRestart), connectRetryCounter 1, failures 1, hold 90 after OPEN.
function base(name: BgpState, patch: Partial<FsmState> = {}): FsmState {
  return {
    ...initialFsmState(),
    name,
    connectRetryCounter: 1,
    failures: 1,
    autoRestart: true,
    holdTime: name === 'OpenConfirm' || name === 'Established' ? 90 : 0,
    ...patch,
  };
}

const ignored = (s: BgpState): Cell => ({ to: s, actions: [] });
const rejected = (s: BgpState): Cell => ({ to: s, actions: ['rejectConnection'] });
const STARTS = [
  'ManualStart',
  'AutomaticStart',
  'ManualStart_with_PassiveTcpEstablishment',
  'AutomaticStart_with_PassiveTcpEstablishment',
  'AutomaticStart_with_DampPeerOscillations',
  'AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment',
] as const;

function withStartsIgnored(s: BgpState, cells: Partial<Record<FsmEventType, Cell>>): Record<FsmEventType, Cell> {
  const out: Partial<Record<FsmEventType, Cell>> = {};
  for (const st of STARTS) out[st] = ignored(s);
  return { ...out, ...cells } as Record<FsmEventType, Cell>;
}

/** Connect and Active: "any other event" → Idle, counter + 1. */
const preOpenOther: Cell = { to: 'Idle', actions: idle(2), counter: 2 };

const EXPECTED: Record<BgpState, Record<FsmEventType, Cell>> = {
  Idle: {
    ManualStart: { to: 'Connect', actions: ['retry:connectRetry:0', 'connect'], counter: 0 },
    ManualStop: { to: 'Idle', actions: ['stop:idleHold'], counter: 0 },
    AutomaticStart: { to: 'Connect', actions: ['retry:connectRetry:1', 'connect'], counter: 0 },
    ManualStart_with_PassiveTcpEstablishment: { to: 'Active', actions: [], counter: 0 },
    AutomaticStart_with_PassiveTcpEstablishment: { to: 'Active', actions: [], counter: 0 },
    AutomaticStart_with_DampPeerOscillations: { to: 'Connect', actions: ['retry:connectRetry:1', 'connect'] },
    AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment: { to: 'Active', actions: [] },
    AutomaticStop: { to: 'Idle', actions: ['stop:idleHold'], counter: 1 },
    ConnectRetryTimer_Expires: ignored('Idle'),
    HoldTimer_Expires: ignored('Idle'),
    KeepaliveTimer_Expires: ignored('Idle'),
    DelayOpenTimer_Expires: ignored('Idle'),
    IdleHoldTimer_Expires: { to: 'Connect', actions: ['retry:connectRetry:1', 'connect'] },
    TcpConnection_Valid: rejected('Idle'),
    Tcp_CR_Invalid: rejected('Idle'),
    Tcp_CR_Acked: rejected('Idle'),
    TcpConnectionConfirmed: rejected('Idle'),
    TcpConnectionFails: ignored('Idle'),
    BGPOpen: ignored('Idle'),
    BGPOpen_with_DelayOpenTimer_running: ignored('Idle'),
    BGPHeaderErr: ignored('Idle'),
    BGPOpenMsgErr: ignored('Idle'),
    OpenCollisionDump: ignored('Idle'),
    NotifMsgVerErr: ignored('Idle'),
    NotifMsg: ignored('Idle'),
    KeepAliveMsg: ignored('Idle'),
    UpdateMsg: ignored('Idle'),
    UpdateMsgErr: ignored('Idle'),
    RouteRefreshMsg: ignored('Idle'),
  },
  Connect: withStartsIgnored('Connect', {
    ManualStop: { to: 'Idle', actions: idleNoRestart(), counter: 0 },
    AutomaticStop: { to: 'Idle', actions: idleNoRestart(), counter: 2 },
    ConnectRetryTimer_Expires: {
      to: 'Connect',
      actions: ['dropConnection', 'retry:connectRetry:2', 'stop:delayOpen', 'connect'],
    },
    HoldTimer_Expires: preOpenOther,
    KeepaliveTimer_Expires: preOpenOther,
    DelayOpenTimer_Expires: { to: 'OpenSent', actions: ['stop:connectRetry', 'sendOpen', 'start:hold:240'] },
    IdleHoldTimer_Expires: preOpenOther,
    TcpConnection_Valid: ignored('Connect'),
    Tcp_CR_Invalid: rejected('Connect'),
    Tcp_CR_Acked: { to: 'OpenSent', actions: ['stop:connectRetry', 'sendOpen', 'start:hold:240'] },
    TcpConnectionConfirmed: { to: 'OpenSent', actions: ['stop:connectRetry', 'sendOpen', 'start:hold:240'] },
    TcpConnectionFails: { to: 'Active', actions: ['dropConnection', 'retry:connectRetry:2'] },
    BGPOpen: preOpenOther,
    BGPOpen_with_DelayOpenTimer_running: {
      to: 'OpenConfirm',
      actions: [
        'stop:connectRetry',
        'stop:delayOpen',
        'sendOpen',
        'sendKeepalive',
        'start:keepalive:10',
        'start:hold:30',
      ],
    },
    BGPHeaderErr: { to: 'Idle', actions: idle(2, 'notify:2/2:fde8'), counter: 2 },
    BGPOpenMsgErr: { to: 'Idle', actions: idle(2, 'notify:2/2:fde8'), counter: 2 },
    OpenCollisionDump: preOpenOther,
    NotifMsgVerErr: { to: 'Idle', actions: idle(2), counter: 2 },
    NotifMsg: preOpenOther,
    KeepAliveMsg: preOpenOther,
    UpdateMsg: preOpenOther,
    UpdateMsgErr: preOpenOther,
    RouteRefreshMsg: preOpenOther,
  }),
  Active: withStartsIgnored('Active', {
    ManualStop: { to: 'Idle', actions: idleNoRestart(), counter: 0 },
    AutomaticStop: { to: 'Idle', actions: idleNoRestart(), counter: 2 },
    ConnectRetryTimer_Expires: { to: 'Connect', actions: ['retry:connectRetry:1', 'connect'] },
    HoldTimer_Expires: preOpenOther,
    KeepaliveTimer_Expires: preOpenOther,
    DelayOpenTimer_Expires: { to: 'OpenSent', actions: ['stop:connectRetry', 'sendOpen', 'start:hold:240'] },
    IdleHoldTimer_Expires: preOpenOther,
    TcpConnection_Valid: ignored('Active'),
    Tcp_CR_Invalid: rejected('Active'),
    Tcp_CR_Acked: { to: 'OpenSent', actions: ['stop:connectRetry', 'sendOpen', 'start:hold:240'] },
    TcpConnectionConfirmed: { to: 'OpenSent', actions: ['stop:connectRetry', 'sendOpen', 'start:hold:240'] },
    TcpConnectionFails: { to: 'Idle', actions: idle(2), counter: 2 },
    BGPOpen: preOpenOther,
    BGPOpen_with_DelayOpenTimer_running: {
      to: 'OpenConfirm',
      actions: [
        'stop:connectRetry',
        'stop:delayOpen',
        'sendOpen',
        'sendKeepalive',
        'start:keepalive:10',
        'start:hold:30',
      ],
    },
    BGPHeaderErr: { to: 'Idle', actions: idle(2, 'notify:2/2:fde8'), counter: 2 },
    BGPOpenMsgErr: { to: 'Idle', actions: idle(2, 'notify:2/2:fde8'), counter: 2 },
    OpenCollisionDump: preOpenOther,
    NotifMsgVerErr: { to: 'Idle', actions: idle(2), counter: 2 },
    NotifMsg: preOpenOther,
    KeepAliveMsg: preOpenOther,
    UpdateMsg: preOpenOther,
    UpdateMsgErr: preOpenOther,
    RouteRefreshMsg: preOpenOther,
  }),
  OpenSent: withStartsIgnored('OpenSent', {
    ManualStop: { to: 'Idle', actions: idleNoRestart(`notify:6/2:${BYE}`), counter: 0 },
    AutomaticStop: { to: 'Idle', actions: idleNoRestart('notify:6/3'), counter: 2 },
    ConnectRetryTimer_Expires: { to: 'Idle', actions: idle(2, 'notify:5/1'), counter: 2 },
    HoldTimer_Expires: { to: 'Idle', actions: idle(2, 'notify:4/0'), counter: 2 },
    KeepaliveTimer_Expires: { to: 'Idle', actions: idle(2, 'notify:5/1'), counter: 2 },
    DelayOpenTimer_Expires: { to: 'Idle', actions: idle(2, 'notify:5/1'), counter: 2 },
    IdleHoldTimer_Expires: { to: 'Idle', actions: idle(2, 'notify:5/1'), counter: 2 },
    TcpConnection_Valid: ignored('OpenSent'),
    Tcp_CR_Invalid: rejected('OpenSent'),
    Tcp_CR_Acked: ignored('OpenSent'),
    TcpConnectionConfirmed: ignored('OpenSent'),
    TcpConnectionFails: { to: 'Active', actions: ['dropConnection', 'stop:hold', 'retry:connectRetry:2'] },
    BGPOpen: {
      to: 'OpenConfirm',
      actions: ['stop:delayOpen', 'stop:connectRetry', 'sendKeepalive', 'start:keepalive:10', 'start:hold:30'],
    },
    BGPOpen_with_DelayOpenTimer_running: { to: 'Idle', actions: idle(2, 'notify:5/1'), counter: 2 },
    BGPHeaderErr: { to: 'Idle', actions: idle(2, 'notify:2/2:fde8'), counter: 2 },
    BGPOpenMsgErr: { to: 'Idle', actions: idle(2, 'notify:2/2:fde8'), counter: 2 },
    OpenCollisionDump: { to: 'Idle', actions: idle(2, 'notify:6/7'), counter: 2 },
    NotifMsgVerErr: { to: 'Idle', actions: idle(2), counter: 1 },
    NotifMsg: { to: 'Idle', actions: idle(2), counter: 2 },
    KeepAliveMsg: { to: 'Idle', actions: idle(2, 'notify:5/1'), counter: 2 },
    UpdateMsg: { to: 'Idle', actions: idle(2, 'notify:5/1'), counter: 2 },
    UpdateMsgErr: { to: 'Idle', actions: idle(2, 'notify:5/1'), counter: 2 },
    RouteRefreshMsg: { to: 'Idle', actions: idle(2, 'notify:5/1'), counter: 2 },
  }),
  OpenConfirm: withStartsIgnored('OpenConfirm', {
    ManualStop: { to: 'Idle', actions: idleNoRestart(`notify:6/2:${BYE}`), counter: 0 },
    AutomaticStop: { to: 'Idle', actions: idleNoRestart('notify:6/3'), counter: 2 },
    ConnectRetryTimer_Expires: { to: 'Idle', actions: idle(2, 'notify:5/2'), counter: 2 },
    HoldTimer_Expires: { to: 'Idle', actions: idle(2, 'notify:4/0'), counter: 2 },
    KeepaliveTimer_Expires: { to: 'OpenConfirm', actions: ['sendKeepalive', 'start:keepalive:30'] },
    DelayOpenTimer_Expires: { to: 'Idle', actions: idle(2, 'notify:5/2'), counter: 2 },
    IdleHoldTimer_Expires: { to: 'Idle', actions: idle(2, 'notify:5/2'), counter: 2 },
    TcpConnection_Valid: ignored('OpenConfirm'),
    Tcp_CR_Invalid: rejected('OpenConfirm'),
    Tcp_CR_Acked: ignored('OpenConfirm'),
    TcpConnectionConfirmed: ignored('OpenConfirm'),
    TcpConnectionFails: { to: 'Idle', actions: idle(2), counter: 2 },
    BGPOpen: ignored('OpenConfirm'),
    BGPOpen_with_DelayOpenTimer_running: { to: 'Idle', actions: idle(2, 'notify:5/2'), counter: 2 },
    BGPHeaderErr: { to: 'Idle', actions: idle(2, 'notify:2/2:fde8'), counter: 2 },
    BGPOpenMsgErr: { to: 'Idle', actions: idle(2, 'notify:2/2:fde8'), counter: 2 },
    OpenCollisionDump: { to: 'Idle', actions: idle(2, 'notify:6/7'), counter: 2 },
    NotifMsgVerErr: { to: 'Idle', actions: idle(2), counter: 1 },
    NotifMsg: { to: 'Idle', actions: idle(2), counter: 2 },
    KeepAliveMsg: { to: 'Established', actions: ['start:hold:90', 'established'] },
    UpdateMsg: { to: 'Idle', actions: idle(2, 'notify:5/2'), counter: 2 },
    UpdateMsgErr: { to: 'Idle', actions: idle(2, 'notify:5/2'), counter: 2 },
    RouteRefreshMsg: { to: 'Idle', actions: idle(2, 'notify:5/2'), counter: 2 },
  }),
  Established: withStartsIgnored('Established', {
    ManualStop: { to: 'Idle', actions: idleNoRestart(`notify:6/2:${BYE}`), counter: 0 },
    AutomaticStop: { to: 'Idle', actions: idleNoRestart('notify:6/3'), counter: 2 },
    ConnectRetryTimer_Expires: { to: 'Idle', actions: idle(2, 'notify:5/3'), counter: 2 },
    HoldTimer_Expires: { to: 'Idle', actions: idle(2, 'notify:4/0'), counter: 2 },
    KeepaliveTimer_Expires: { to: 'Established', actions: ['sendKeepalive', 'start:keepalive:30'] },
    DelayOpenTimer_Expires: { to: 'Idle', actions: idle(2, 'notify:5/3'), counter: 2 },
    IdleHoldTimer_Expires: { to: 'Idle', actions: idle(2, 'notify:5/3'), counter: 2 },
    TcpConnection_Valid: ignored('Established'),
    Tcp_CR_Invalid: rejected('Established'),
    Tcp_CR_Acked: ignored('Established'),
    TcpConnectionConfirmed: ignored('Established'),
    TcpConnectionFails: { to: 'Idle', actions: idle(2), counter: 2 },
    BGPOpen: ignored('Established'),
    BGPOpen_with_DelayOpenTimer_running: { to: 'Idle', actions: idle(2, 'notify:5/3'), counter: 2 },
    BGPHeaderErr: { to: 'Idle', actions: idle(2, 'notify:2/2:fde8'), counter: 2 },
    BGPOpenMsgErr: { to: 'Idle', actions: idle(2, 'notify:5/3'), counter: 2 },
    OpenCollisionDump: { to: 'Idle', actions: idle(2, 'notify:6/7'), counter: 2 },
    NotifMsgVerErr: { to: 'Idle', actions: idle(2), counter: 2 },
    NotifMsg: { to: 'Idle', actions: idle(2), counter: 2 },
    KeepAliveMsg: { to: 'Established', actions: ['start:hold:90'] },
    UpdateMsg: { to: 'Established', actions: ['deliverUpdate', 'start:hold:90'] },
    UpdateMsgErr: { to: 'Idle', actions: idle(2, 'notify:3/1'), counter: 2 },
    RouteRefreshMsg: { to: 'Established', actions: ['deliverRouteRefresh', 'start:hold:90'] },
  }),
};

describe('FSM table (RFC 4271 §8.2.2)', () => {
  it('has a handler for every state × event', () => {
    for (const s of BGP_STATES) {
      expect(Object.keys(FSM_TABLE[s]).sort()).toEqual([...FSM_EVENT_TYPES].sort());
      expect(Object.keys(EXPECTED[s]).sort()).toEqual([...FSM_EVENT_TYPES].sort());
    }
  });

  for (const s of BGP_STATES) {
    describe(s, () => {
      for (const e of FSM_EVENT_TYPES) {
        const cell = EXPECTED[s][e];
        it(`${e} → ${cell.to}`, () => {
          const t = transition(base(s), event(e));
          expect(t.state.name).toBe(cell.to);
          expect(t.actions.map(fmt)).toEqual(cell.actions);
          if (cell.counter !== undefined) expect(t.state.connectRetryCounter).toBe(cell.counter);
        });
      }
    });
  }
});

describe('FSM variants', () => {
  const delay = { delayOpenTime: 5 };

  it('DelayOpen: TCP up in Connect and Active starts the DelayOpen timer instead of sending OPEN', () => {
    for (const s of ['Connect', 'Active'] as const) {
      for (const e of ['Tcp_CR_Acked', 'TcpConnectionConfirmed'] as const) {
        const t = transition(base(s, { config: { ...initialFsmState().config, ...delay } }), { type: e });
        expect(t.state.name).toBe(s);
        expect(t.state.delayOpenTimerRunning).toBe(true);
        expect(t.actions.map(fmt)).toEqual(['stop:connectRetry', 'start:delayOpen:5']);
      }
    }
  });

  it('DelayOpen running: TCP failure in Connect goes to Active, NotifMsgVerErr keeps the counter', () => {
    const s = base('Connect', { delayOpenTimerRunning: true });
    const fail = transition(s, { type: 'TcpConnectionFails' });
    expect(fail.state.name).toBe('Active');
    expect(fail.actions.map(fmt)).toEqual(['dropConnection', 'retry:connectRetry:1', 'stop:delayOpen']);
    expect(fail.state.delayOpenTimerRunning).toBe(false);
    for (const name of ['Connect', 'Active'] as const) {
      const v = transition(base(name, { delayOpenTimerRunning: true }), event('NotifMsgVerErr'));
      expect(v.state.name).toBe('Idle');
      expect(v.state.connectRetryCounter).toBe(1);
    }
  });

  it('DelayOpen running in Active: ManualStop sends Cease/Administrative Shutdown (SendNOTIFICATIONwithoutOPEN)', () => {
    const t = transition(base('Active', { delayOpenTimerRunning: true }), event('ManualStop'));
    expect(t.actions.map(fmt)).toEqual(idleNoRestart(`notify:6/2:${BYE}`));
  });

  it('SendNOTIFICATIONwithoutOPEN off: an OPEN error before our OPEN sends nothing', () => {
    const config = { ...initialFsmState().config, sendNotificationWithoutOpen: false };
    const t = transition(base('Connect', { config }), event('BGPOpenMsgErr'));
    expect(t.actions.map(fmt)).toEqual(idle(2));
  });

  it('passive peers: start to Active without connecting; ConnectRetryTimer never connects', () => {
    const config = { ...initialFsmState().config, passive: true };
    const s = { ...initialFsmState(config) };
    const t = transition(s, { type: 'ManualStart' });
    expect(t.state.name).toBe('Active');
    expect(t.actions).toEqual([]);
    const r = transition(t.state, { type: 'ConnectRetryTimer_Expires' });
    expect(r.state.name).toBe('Active');
    expect(r.actions).toEqual([]);
    const idleHold = transition({ ...s, autoRestart: true }, { type: 'IdleHoldTimer_Expires' });
    expect(idleHold.state.name).toBe('Active');
  });

  it('hold time 0: no keepalive and no hold timer after OPEN, none restarted on messages', () => {
    const t = transition(base('OpenSent'), { type: 'BGPOpen', holdTime: 0 });
    expect(t.actions.map(fmt)).toEqual([
      'stop:delayOpen',
      'stop:connectRetry',
      'sendKeepalive',
      'stop:keepalive',
      'stop:hold',
    ]);
    const est = transition(t.state, { type: 'KeepAliveMsg' });
    expect(est.state.name).toBe('Established');
    expect(est.actions.map(fmt)).toEqual(['established']);
    expect(transition(est.state, { type: 'UpdateMsg' }).actions.map(fmt)).toEqual(['deliverUpdate']);
    expect(transition(est.state, { type: 'KeepaliveTimer_Expires' }).actions).toEqual([]);
  });

  it('ManualStop after a stop: no automatic restart; IdleHoldTimer_Expires then does nothing', () => {
    const t = transition(base('Established'), event('ManualStop'));
    expect(t.state.autoRestart).toBe(false);
    const again = transition(t.state, { type: 'IdleHoldTimer_Expires' });
    expect(again.state.name).toBe('Idle');
    expect(again.actions).toEqual([]);
  });

  it('back-off level grows with consecutive failures and resets on Established', () => {
    let s = transition(initialFsmState(), { type: 'ManualStart' }).state;
    const attempts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const f = transition(s, { type: 'TcpConnectionFails' });
      attempts.push(f.actions.map(fmt).join(','));
      s = transition(f.state, { type: 'ConnectRetryTimer_Expires' }).state;
    }
    expect(attempts).toEqual([
      'dropConnection,retry:connectRetry:1',
      'dropConnection,retry:connectRetry:2',
      'dropConnection,retry:connectRetry:3',
    ]);
    s = transition(s, { type: 'TcpConnectionConfirmed' }).state;
    s = transition(s, { type: 'BGPOpen', holdTime: 90 }).state;
    s = transition(s, { type: 'KeepAliveMsg' }).state;
    expect(s.failures).toBe(0);
    const drop = transition(s, { type: 'HoldTimer_Expires' });
    expect(drop.actions.map(fmt).at(-1)).toBe('retry:idleHold:1');
  });
});
