// The session shell: performs what the pure FSM (../fsm) asks for, with an injected clock and
// connector. Up to two connections per peer (RFC 4271 §6.8): the primary one, whose FSM is the
// session's state, and a second one tracked until its OPEN decides the collision.

import { BehaviorSubject, filter, map, type Observable, Subject } from 'rxjs';
import { type BackoffPolicy, backoffMs, DEFAULT_CONNECT_RETRY, DEFAULT_IDLE_HOLD } from '../fsm/backoff.js';
import { resolveCollision } from '../fsm/collision.js';
import { validateOpen } from '../fsm/open.js';
import { transition } from '../fsm/table.js';
import {
  type BgpState,
  type FixedTimer,
  type FsmAction,
  type FsmEvent,
  type FsmState,
  initialFsmState,
  keepaliveSeconds,
  type NotificationSpec,
  type RetryTimer,
} from '../fsm/types.js';
import { systemClock } from '../transport/clock.js';
import { NodeTcpConnector } from '../transport/tcp.js';
import type { Clock, Connection, Connector, TimerHandle } from '../transport/types.js';
import {
  BgpError,
  type Capabilities,
  carriesShutdownCommunication,
  DEFAULT_CODEC_OPTIONS,
  type DecodeResult,
  decodeMessage,
  decodeShutdownCommunication,
  decodeUpdateFast,
  describeNotification,
  encodeMessage,
  encodeShutdownCommunication,
  endOfRib,
  type Family,
  type FastUpdate,
  fastUpdateEndOfRib,
  type GracefulRestartCapability,
  isEndOfRib,
  KEEPALIVE,
  localOpen,
  MessageFramer,
  MessageType,
  negotiateCodecOptions,
  negotiatedFamilies,
  type OpenMessage,
  type SessionCodecOptions,
  type UpdateMessage,
} from '../wire/index.js';
import type { NegotiatedSession, SessionConfig, SessionError, SessionEvent } from './types.js';

export class SessionConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionConfigError';
  }
}

/** send()/sendRouteRefresh() on a session that is not Established (or went down while sending). */
export class SessionNotEstablishedError extends Error {
  constructor(peer: string, state: BgpState) {
    super(`BGP session with ${peer} is ${state}, not Established: wait for the 'established' event before sending`);
    this.name = 'SessionNotEstablishedError';
  }
}

export interface SessionDeps {
  readonly clock?: Clock;
  readonly connector?: Connector;
  /** Random numbers in [0, 1) for back-off jitter (default Math.random). */
  readonly random?: () => number;
}

interface Link {
  readonly connection: Connection;
  readonly initiatedLocally: boolean;
  readonly framer: MessageFramer;
  codec: SessionCodecOptions;
  negotiated?: NegotiatedSession;
  closed: boolean;
}

/** One FSM instance and the connection it runs on. */
interface Slot {
  fsm: FsmState;
  link: Link | undefined;
  readonly timers: Map<FixedTimer, TimerHandle>;
  /** When the hold timer is due (clock ms); its restarts only move this (see #startFixed). */
  holdDue: number;
  /** False for the second connection of a collision. */
  primary: boolean;
}

interface Context {
  /** The connection an incoming-connection event was about. */
  readonly candidate?: Connection;
  readonly update?: Exclude<DecodeResult, { kind: 'ignored' }>;
  readonly fastUpdate?: FastUpdate;
  readonly refresh?: { readonly family: Family; readonly subtype: 0 | 1 | 2 };
  readonly notification?: NotificationSpec;
  readonly tcpError?: string;
  /** Run on the primary that is being replaced: no state events, no restart timers, no release. */
  readonly quiet?: boolean;
}

const EMPTY = new Uint8Array(0);

export class Session {
  readonly config: SessionConfig;
  readonly peerAddress: string;
  readonly #clock: Clock;
  readonly #connector: Connector;
  readonly #random: () => number;
  readonly #holdTime: number;
  readonly #localCaps: Capabilities;
  readonly #connectRetry: BackoffPolicy;
  readonly #idleHold: BackoffPolicy;
  readonly #ttl: { ttl?: number; minTtl?: number };
  readonly #fast: boolean;

  #primary: Slot;
  #secondary: Slot | undefined;
  readonly #retryTimers = new Map<RetryTimer, TimerHandle>();
  #connectAttempt: AbortController | undefined;
  #queue: { slot: Slot; event: FsmEvent; ctx: Context }[] = [];
  #running = false;
  #lastError: SessionError | undefined;
  #established: NegotiatedSession | undefined;
  #sendChain: Promise<void> = Promise.resolve();
  #warned = false;

  readonly #events = new Subject<SessionEvent>();
  readonly #state = new BehaviorSubject<BgpState>('Idle');

  /** Everything the session reports, in order. */
  readonly events$: Observable<SessionEvent> = this.#events.asObservable();
  /** The current state (replays the latest to new subscribers). */
  readonly state$: Observable<BgpState> = this.#state.asObservable();

  constructor(config: SessionConfig, deps: SessionDeps = {}) {
    checkConfig(config);
    this.config = config;
    this.peerAddress = config.peerAddress;
    this.#clock = deps.clock ?? systemClock;
    this.#connector = deps.connector ?? new NodeTcpConnector();
    this.#random = deps.random ?? Math.random;
    this.#holdTime = config.holdTime ?? 90;
    this.#connectRetry = config.connectRetry ?? DEFAULT_CONNECT_RETRY;
    this.#idleHold = config.idleHold ?? DEFAULT_IDLE_HOLD;
    this.#ttl = ttlPolicy(config);
    this.#fast = config.fastUpdates ?? false;
    this.#localCaps = localCapabilities(config);
    this.#primary = this.#newSlot(true);
  }

  // ---- owner API ----

  get state(): BgpState {
    return this.#primary.fsm.name;
  }

  get lastError(): SessionError | undefined {
    return this.#lastError;
  }

  /** What was negotiated, while Established. */
  get negotiated(): NegotiatedSession | undefined {
    return this.#established;
  }

  /** Our OPEN's capabilities. */
  get localCapabilities(): Capabilities {
    return this.#localCaps;
  }

  stateChanges$(): Observable<Extract<SessionEvent, { type: 'state' }>> {
    return this.#events.pipe(filter((e): e is Extract<SessionEvent, { type: 'state' }> => e.type === 'state'));
  }

  updates$(): Observable<Exclude<DecodeResult, { kind: 'ignored' }>> {
    return this.#events.pipe(
      filter((e): e is Extract<SessionEvent, { type: 'update' }> => e.type === 'update'),
      map((e) => e.update),
    );
  }

  /** ManualStart (or its passive variant). */
  start(): void {
    const missing = this.#ttl.minTtl !== undefined && !this.#connector.features.minTtl;
    const noTtl = this.#ttl.ttl !== undefined && !this.#connector.features.ttl;
    if ((missing || noTtl) && !this.#warned) {
      this.#warned = true;
      this.#events.next({
        type: 'warning',
        message:
          `peer ${this.peerAddress}: the connector cannot ${missing ? 'enforce the GTSM minimum TTL' : 'set the TTL'}` +
          ` (node:net has no IP_TTL/IP_MINTTL); packets use the system default TTL and received TTLs are not checked`,
      });
    }
    this.#dispatch(this.#primary, {
      type: this.config.passive ? 'ManualStart_with_PassiveTcpEstablishment' : 'ManualStart',
    });
  }

  /**
   * ManualStop: Cease / Administrative Shutdown with `reason` as the RFC 9003 shutdown
   * communication, connection closed, no automatic restart. Resolves once the session is Idle.
   */
  async stop(reason?: string): Promise<void> {
    const data = reason === undefined ? EMPTY : encodeShutdownCommunication(reason);
    this.#dispatch(this.#primary, { type: 'ManualStop', data });
    if (this.#secondary) this.#dispatch(this.#secondary, { type: 'ManualStop', data });
    await Promise.resolve();
  }

  /** AutomaticStop with a Cease subcode (e.g. 1 maximum prefixes, 3 peer de-configured). */
  automaticStop(subcode: number, data: Uint8Array = EMPTY): void {
    this.#dispatch(this.#primary, { type: 'AutomaticStop', subcode, data });
  }

  /**
   * Sends UPDATEs in order, waiting for the socket to drain whenever its buffer is full: await it
   * before producing more (a table dump then holds one buffer's worth in memory). Rejects with
   * SessionNotEstablishedError when the session is or goes down.
   */
  send(updates: UpdateMessage | readonly UpdateMessage[]): Promise<void> {
    const list: readonly UpdateMessage[] = isUpdateList(updates) ? updates : [updates];
    return this.#enqueue(list.length, (i, codec) => encodeMessage(list[i]!, codec));
  }

  /**
   * Sends pre-encoded UPDATEs (encoded for `negotiated.codec`) in order, like send(): each buffer
   * holds one or more whole UPDATE messages back to back (one socket write per buffer). The
   * KeepaliveTimer restarts (RFC 4271 §8.2.2), the socket buffer is drained whenever it is full,
   * and the promise rejects with SessionNotEstablishedError when the session is or goes down (the
   * rest is then not sent, and nothing is ever written to a later session).
   */
  sendFrames(buffers: readonly Uint8Array[]): Promise<void> {
    for (const b of buffers) checkUpdates(b);
    return this.#enqueue(buffers.length, (i) => buffers[i]!);
  }

  /** End-of-RIB for `family` (RFC 4724 §2), after the initial table. */
  sendEndOfRib(family: Family): Promise<void> {
    return this.send(endOfRib(family));
  }

  /** ROUTE-REFRESH (RFC 2918): asks the peer to send its table for `family` again. */
  sendRouteRefresh(family: Family, subtype: 0 | 1 | 2 = 0): void {
    const link = this.#requireEstablished();
    const n = link.negotiated;
    if (n && !n.routeRefresh)
      throw new SessionConfigError(`peer ${this.peerAddress} did not advertise the route refresh capability`);
    if (n && subtype !== 0 && !n.enhancedRouteRefresh)
      throw new SessionConfigError(`peer ${this.peerAddress} did not advertise enhanced route refresh (RFC 7313)`);
    link.connection.write(encodeMessage({ type: MessageType.ROUTE_REFRESH, family, subtype }, link.codec));
  }

  /** Hands over a connection accepted for this peer (BgpListener calls this). */
  acceptIncoming(connection: Connection): void {
    const p = this.#primary;
    if (p.fsm.name === 'Idle') {
      this.#dispatch(p, { type: 'TcpConnectionConfirmed' }, { candidate: connection });
      return;
    }
    if (p.link === undefined && (p.fsm.name === 'Connect' || p.fsm.name === 'Active')) {
      this.#attach(p, connection, false, { type: 'TcpConnectionConfirmed' });
      return;
    }
    this.#addSecond(connection, false);
  }

  /** Stops and completes the event streams. */
  async close(): Promise<void> {
    await this.stop();
    this.#events.complete();
    this.#state.complete();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- event processing ----

  #newSlot(primary: boolean): Slot {
    const fsm = initialFsmState({
      passive: primary ? (this.config.passive ?? false) : true,
      delayOpenTime: this.config.delayOpen ?? 0,
      sendNotificationWithoutOpen: this.config.sendNotificationWithoutOpen ?? true,
    });
    return { fsm, link: undefined, timers: new Map(), primary, holdDue: 0 };
  }

  #dispatch(slot: Slot, event: FsmEvent, ctx: Context = {}): void {
    this.#queue.push({ slot, event, ctx });
    if (this.#running) return;
    this.#running = true;
    try {
      for (let item = this.#queue.shift(); item; item = this.#queue.shift())
        this.#apply(item.slot, item.event, item.ctx);
    } finally {
      this.#running = false;
    }
  }

  #apply(slot: Slot, event: FsmEvent, ctx: Context): void {
    if (slot !== this.#primary && slot !== this.#secondary) return; // stale (a replaced slot)
    const before = slot.fsm.name;
    const wasPrimary = slot.primary;
    const wasEstablished = slot.primary && before === 'Established';
    const t = transition(slot.fsm, event);
    slot.fsm = t.state;
    let sentNotification: NotificationSpec | undefined;
    for (const a of t.actions) {
      if (a.type === 'sendNotification') sentNotification = a;
      this.#perform(slot, a, ctx, { sentNotification, wasEstablished, event });
    }
    if (!wasPrimary) {
      if (slot.fsm.name === 'Idle' && this.#secondary === slot) this.#secondary = undefined;
      return;
    }
    if (ctx.quiet) return;
    if (slot.fsm.name !== before) {
      let lastError: SessionError | undefined;
      if (slot.fsm.name === 'Idle') {
        lastError = sentNotification
          ? notificationError('notification-sent', sentNotification)
          : ctx.notification
            ? notificationError('notification-received', ctx.notification)
            : event.type === 'TcpConnectionFails'
              ? { kind: 'connection', message: ctx.tcpError ?? event.reason ?? 'connection closed' }
              : undefined;
        if (lastError) this.#lastError = lastError;
      } else if (event.type === 'TcpConnectionFails') {
        this.#lastError = { kind: 'connection', message: ctx.tcpError ?? event.reason ?? 'connection failed' };
        lastError = this.#lastError;
      }
      this.#state.next(slot.fsm.name);
      this.#events.next({ type: 'state', from: before, to: slot.fsm.name, ...(lastError ? { lastError } : {}) });
    }
  }

  #perform(
    slot: Slot,
    a: FsmAction,
    ctx: Context,
    info: { sentNotification: NotificationSpec | undefined; wasEstablished: boolean; event: FsmEvent },
  ): void {
    switch (a.type) {
      case 'connect':
        if (slot.primary) this.#connect();
        return;
      case 'dropConnection':
        this.#dropLink(slot, info.sentNotification !== undefined);
        if (slot.primary && !ctx.quiet) this.#abortConnect();
        return;
      case 'rejectConnection':
        ctx.candidate?.destroy();
        return;
      case 'sendOpen':
        this.#write(slot, encodeMessage(this.#localOpen(), DEFAULT_CODEC_OPTIONS));
        return;
      case 'sendKeepalive':
        this.#write(slot, encodeMessage(KEEPALIVE, DEFAULT_CODEC_OPTIONS));
        return;
      case 'sendNotification':
        this.#write(
          slot,
          encodeMessage(
            { type: MessageType.NOTIFICATION, code: a.code, subcode: a.subcode, data: a.data },
            DEFAULT_CODEC_OPTIONS,
          ),
        );
        return;
      case 'startTimer':
        this.#startFixed(slot, a.timer, a.seconds * 1000);
        return;
      case 'startRetryTimer': {
        if (!slot.primary || ctx.quiet) return;
        const policy = a.timer === 'connectRetry' ? this.#connectRetry : this.#idleHold;
        this.#startRetry(a.timer, backoffMs(policy, a.attempt, this.#random()));
        return;
      }
      case 'stopTimer':
        if (a.timer === 'connectRetry' || a.timer === 'idleHold') {
          if (slot.primary && !ctx.quiet) this.#stopRetry(a.timer);
        } else this.#stopFixed(slot, a.timer);
        return;
      case 'releaseResources': {
        if (!slot.primary || ctx.quiet) return;
        const n = this.#established;
        this.#established = undefined;
        if (n && info.wasEstablished) {
          const ended = info.sentNotification !== undefined || ctx.notification !== undefined;
          const error = info.sentNotification
            ? notificationError('notification-sent', info.sentNotification)
            : ctx.notification
              ? notificationError('notification-received', ctx.notification)
              : info.event.type === 'TcpConnectionFails'
                ? { kind: 'connection' as const, message: ctx.tcpError ?? 'connection closed' }
                : undefined;
          this.#events.next({
            type: 'down',
            negotiated: n,
            retainStale: n.peerGracefulRestart !== undefined && n.localGracefulRestart !== undefined && !ended,
            ...(error ? { error } : {}),
          });
        }
        return;
      }
      case 'deliverUpdate': {
        const f = ctx.fastUpdate;
        if (f) {
          const eor = fastUpdateEndOfRib(f);
          if (eor !== undefined) this.#events.next({ type: 'endOfRib', family: eor });
          else this.#events.next({ type: 'fastUpdate', update: f });
          return;
        }
        const u = ctx.update;
        if (!u) return;
        const eor = u.kind === 'message' && u.message.type === MessageType.UPDATE ? isEndOfRib(u.message) : undefined;
        if (eor !== undefined) this.#events.next({ type: 'endOfRib', family: eor });
        else this.#events.next({ type: 'update', update: u });
        return;
      }
      case 'deliverRouteRefresh':
        if (ctx.refresh) this.#events.next({ type: 'routeRefresh', ...ctx.refresh });
        return;
      case 'established': {
        const n = slot.link?.negotiated;
        if (!n) return;
        if (!slot.primary) {
          // The second connection got there first (the primary has no OPEN yet): it wins, and the
          // primary is dumped as it would be at its OPEN (collision with an Established session).
          const p = this.#primary;
          const before = p.fsm.name;
          this.#apply(p, { type: 'OpenCollisionDump' }, { quiet: true });
          this.#promote(slot, before);
        }
        this.#established = n;
        this.#events.next({ type: 'established', negotiated: n });
        return;
      }
    }
  }

  // ---- timers ----

  #startFixed(slot: Slot, timer: FixedTimer, ms: number): void {
    if (timer === 'hold') {
      // restarted on every message received: moving a deadline is cheaper than a new timer per
      // UPDATE; the pending timer, when it fires early, waits out the rest
      const due = this.#clock.now() + ms;
      if (slot.timers.has('hold') && due >= slot.holdDue) {
        slot.holdDue = due;
        return;
      }
      this.#stopFixed(slot, timer);
      slot.holdDue = due;
      this.#armHold(slot, ms);
      return;
    }
    this.#stopFixed(slot, timer);
    const event: FsmEvent =
      timer === 'keepalive' ? { type: 'KeepaliveTimer_Expires' } : { type: 'DelayOpenTimer_Expires' };
    slot.timers.set(
      timer,
      this.#clock.setTimeout(() => {
        slot.timers.delete(timer);
        this.#dispatch(slot, event);
      }, ms),
    );
  }

  #armHold(slot: Slot, ms: number): void {
    slot.timers.set(
      'hold',
      this.#clock.setTimeout(() => {
        slot.timers.delete('hold');
        const left = slot.holdDue - this.#clock.now();
        if (left > 0) this.#armHold(slot, left);
        else this.#dispatch(slot, { type: 'HoldTimer_Expires' });
      }, ms),
    );
  }

  #stopFixed(slot: Slot, timer: FixedTimer): void {
    const h = slot.timers.get(timer);
    if (h !== undefined) this.#clock.clearTimeout(h);
    slot.timers.delete(timer);
  }

  #startRetry(timer: RetryTimer, ms: number): void {
    this.#stopRetry(timer);
    const event: FsmEvent =
      timer === 'connectRetry' ? { type: 'ConnectRetryTimer_Expires' } : { type: 'IdleHoldTimer_Expires' };
    this.#retryTimers.set(
      timer,
      this.#clock.setTimeout(() => {
        this.#retryTimers.delete(timer);
        this.#dispatch(this.#primary, event);
      }, ms),
    );
  }

  #stopRetry(timer: RetryTimer): void {
    const h = this.#retryTimers.get(timer);
    if (h !== undefined) this.#clock.clearTimeout(h);
    this.#retryTimers.delete(timer);
  }

  // ---- connections ----

  #connect(): void {
    this.#abortConnect();
    const ctl = new AbortController();
    this.#connectAttempt = ctl;
    const opts = {
      remoteAddress: this.config.peerAddress,
      remotePort: this.config.peerPort ?? 179,
      ...(this.config.localAddress !== undefined ? { localAddress: this.config.localAddress } : {}),
      ...this.#ttl,
    };
    this.#connector.connect(opts, ctl.signal).then(
      (connection) => {
        if (this.#connectAttempt === ctl) this.#connectAttempt = undefined;
        if (ctl.signal.aborted) {
          connection.destroy();
          return;
        }
        const p = this.#primary;
        if (p.link === undefined && (p.fsm.name === 'Connect' || p.fsm.name === 'Active')) {
          this.#attach(p, connection, true, { type: 'Tcp_CR_Acked' });
        } else if (p.fsm.name !== 'Idle') this.#addSecond(connection, true);
        else connection.destroy();
      },
      (err: unknown) => {
        if (this.#connectAttempt !== ctl) return;
        this.#connectAttempt = undefined;
        const p = this.#primary;
        if (p.link === undefined && p.fsm.name === 'Connect') {
          const message = err instanceof Error ? err.message : String(err);
          this.#dispatch(p, { type: 'TcpConnectionFails', reason: message }, { tcpError: message });
        }
      },
    );
  }

  #abortConnect(): void {
    this.#connectAttempt?.abort();
    this.#connectAttempt = undefined;
  }

  #addSecond(connection: Connection, initiatedLocally: boolean): void {
    if (this.#secondary !== undefined) {
      connection.destroy();
      return;
    }
    const s = this.#newSlot(false);
    s.fsm = { ...s.fsm, name: 'Active' };
    this.#secondary = s;
    this.#attach(s, connection, initiatedLocally, {
      type: initiatedLocally ? 'Tcp_CR_Acked' : 'TcpConnectionConfirmed',
    });
  }

  /** Makes `connection` the slot's, runs the TCP event, then starts reading (so no byte beats the event). */
  #attach(slot: Slot, connection: Connection, initiatedLocally: boolean, event: FsmEvent): void {
    const link: Link = {
      connection,
      initiatedLocally,
      framer: new MessageFramer(),
      codec: DEFAULT_CODEC_OPTIONS,
      closed: false,
    };
    slot.link = link;
    this.#dispatch(slot, event);
    connection.attach({
      data: (chunk) => this.#onData(slot, link, chunk),
      close: (error) => {
        link.closed = true;
        if (slot.link === link) {
          const message = error?.message ?? 'peer closed the connection';
          this.#dispatch(slot, { type: 'TcpConnectionFails', reason: message }, { tcpError: message });
        }
      },
    });
  }

  #dropLink(slot: Slot, flush: boolean): void {
    const link = slot.link;
    slot.link = undefined;
    for (const t of ['hold', 'keepalive', 'delayOpen'] as const) this.#stopFixed(slot, t);
    if (!link || link.closed) return;
    link.closed = true;
    if (flush) link.connection.end();
    else link.connection.destroy();
  }

  #write(slot: Slot, bytes: Uint8Array): void {
    slot.link?.connection.write(bytes);
  }

  #onData(slot: Slot, link: Link, chunk: Uint8Array): void {
    if (slot.link !== link) return;
    link.framer.push(chunk);
    for (;;) {
      if (slot.link !== link) return; // dropped while handling an earlier message
      let frame: Uint8Array | undefined;
      try {
        frame = link.framer.next();
      } catch (e) {
        if (!(e instanceof BgpError)) throw e;
        this.#dispatch(slot, { type: 'BGPHeaderErr', error: e });
        return;
      }
      if (frame === undefined) return;
      if (this.#fast && frame[18] === MessageType.UPDATE && frame.length >= 23) {
        let u: FastUpdate;
        try {
          u = decodeUpdateFast(frame, link.codec);
        } catch (e) {
          if (!(e instanceof BgpError)) throw e;
          this.#dispatch(slot, { type: 'UpdateMsgErr', error: { code: e.code, subcode: e.subcode, data: e.data } });
          return;
        }
        // the FSM restarts the hold timer and asks for delivery, as for any UPDATE
        this.#dispatch(slot, { type: 'UpdateMsg' }, { fastUpdate: u });
        continue;
      }
      let result: DecodeResult;
      try {
        result = decodeMessage(frame, link.codec);
      } catch (e) {
        if (!(e instanceof BgpError)) throw e;
        const error = { code: e.code, subcode: e.subcode, data: e.data };
        const type = e.code === 1 ? 'BGPHeaderErr' : e.code === 2 ? 'BGPOpenMsgErr' : 'UpdateMsgErr';
        this.#dispatch(slot, { type, error });
        return;
      }
      this.#onMessage(slot, link, result);
    }
  }

  #onMessage(slot: Slot, link: Link, result: DecodeResult): void {
    if (result.kind === 'ignored') return;
    if (result.kind === 'treat-as-withdraw') {
      this.#dispatch(slot, { type: 'UpdateMsg' }, { update: result });
      return;
    }
    const m = result.message;
    switch (m.type) {
      case MessageType.OPEN:
        this.#onOpen(slot, link, m);
        return;
      case MessageType.KEEPALIVE:
        this.#dispatch(slot, { type: 'KeepAliveMsg' });
        return;
      case MessageType.UPDATE:
        this.#dispatch(slot, { type: 'UpdateMsg' }, { update: result });
        return;
      case MessageType.NOTIFICATION: {
        const notification = { code: m.code, subcode: m.subcode, data: m.data };
        const versionError = m.code === 2 && m.subcode === 1;
        this.#dispatch(
          slot,
          versionError ? { type: 'NotifMsgVerErr', notification } : { type: 'NotifMsg', notification },
          { notification },
        );
        return;
      }
      case MessageType.ROUTE_REFRESH:
        this.#dispatch(slot, { type: 'RouteRefreshMsg' }, { refresh: { family: m.family, subtype: m.subtype } });
        return;
    }
  }

  #onOpen(slot: Slot, link: Link, open: OpenMessage): void {
    const check = validateOpen(open, {
      localAs: this.config.localAs,
      routerId: this.config.routerId,
      peerAs: this.config.peerAs,
      holdTime: this.#holdTime,
    });
    if (!check.ok) {
      this.#dispatch(slot, { type: 'BGPOpenMsgErr', error: check.error });
      return;
    }
    const n = this.#negotiate(link, open, check.holdTime, check.peerAs);
    const openEvent: FsmEvent = slot.fsm.delayOpenTimerRunning
      ? { type: 'BGPOpen_with_DelayOpenTimer_running', holdTime: check.holdTime }
      : { type: 'BGPOpen', holdTime: check.holdTime };
    // The FSM only acts on an OPEN before OpenConfirm; later OPENs on the same connection are ignored.
    const expecting = slot.fsm.name === 'OpenSent' || slot.fsm.delayOpenTimerRunning;
    const other = slot === this.#primary ? this.#secondary : this.#primary;
    const otherName = other?.link ? other.fsm.name : undefined;
    if (!expecting || other === undefined || (otherName !== 'OpenConfirm' && otherName !== 'Established')) {
      if (expecting) this.#commitNegotiation(link, n);
      this.#dispatch(slot, openEvent);
      return;
    }
    // §6.8 collision: `other` has the peer's OPEN already.
    if (otherName === 'Established') {
      // RFC 4724 §4.2: a new connection with graceful restart while Established means the peer
      // restarted: the old connection is closed as if it had failed and the new one carries on.
      if (!slot.primary && open.capabilities.gracefulRestart !== undefined) {
        this.#commitNegotiation(link, n);
        this.#dispatch(slot, openEvent);
        this.#dispatch(other, { type: 'TcpConnectionFails', reason: 'peer restarted (graceful restart)' });
        this.#promote(slot, other.fsm.name);
        return;
      }
      this.#dispatch(slot, { type: 'OpenCollisionDump' });
      return;
    }
    const winner = resolveCollision(this.config.routerId, open.bgpId, this.config.localAs, check.peerAs);
    const keepThis = (winner === 'locally-initiated') === link.initiatedLocally;
    if (!keepThis) {
      if (slot.primary) {
        // The second connection (already in OpenConfirm) wins: it takes over the session.
        const before = slot.fsm.name;
        this.#dispatch(slot, { type: 'OpenCollisionDump' }, { quiet: true });
        this.#promote(other, before);
      } else this.#dispatch(slot, { type: 'OpenCollisionDump' });
      return;
    }
    this.#commitNegotiation(link, n);
    this.#dispatch(slot, openEvent);
    if (other.primary) {
      const before = other.fsm.name;
      this.#dispatch(other, { type: 'OpenCollisionDump' }, { quiet: true });
      this.#promote(slot, before);
    } else this.#dispatch(other, { type: 'OpenCollisionDump' });
  }

  /** The second connection won: it becomes the session's connection. */
  #promote(slot: Slot, before: BgpState): void {
    const old = this.#primary;
    slot.primary = true;
    slot.fsm = {
      ...slot.fsm,
      config: old.fsm.config,
      autoRestart: old.fsm.autoRestart,
      connectRetryCounter: old.fsm.connectRetryCounter,
      failures: old.fsm.failures,
    };
    this.#primary = slot;
    this.#secondary = undefined;
    old.link = undefined;
    this.#stopRetry('connectRetry');
    this.#stopRetry('idleHold');
    this.#abortConnect();
    if (slot.fsm.name !== before) {
      this.#state.next(slot.fsm.name);
      this.#events.next({ type: 'state', from: before, to: slot.fsm.name });
    }
  }

  #negotiate(link: Link, open: OpenMessage, holdTime: number, peerAs: number): NegotiatedSession {
    const remote = open.capabilities;
    const local = this.#localCaps;
    const codec = negotiateCodecOptions(local, remote);
    const c = link.connection;
    return {
      peerAs,
      peerId: open.bgpId,
      holdTime,
      keepaliveTime: holdTime === 0 ? 0 : keepaliveSeconds(holdTime),
      families: negotiatedFamilies(local, remote),
      routeRefresh: local.routeRefresh && remote.routeRefresh,
      enhancedRouteRefresh: local.enhancedRouteRefresh && remote.enhancedRouteRefresh,
      codec,
      ...(remote.gracefulRestart ? { peerGracefulRestart: remote.gracefulRestart } : {}),
      ...(local.gracefulRestart ? { localGracefulRestart: local.gracefulRestart } : {}),
      localCapabilities: local,
      remoteOpen: open,
      localAddress: c.localAddress,
      localPort: c.localPort,
      remoteAddress: c.remoteAddress,
      remotePort: c.remotePort,
    };
  }

  #commitNegotiation(link: Link, n: NegotiatedSession): void {
    link.negotiated = n;
    link.codec = n.codec;
    link.framer.setMaxMessageLength(n.codec.maxMessageLength);
  }

  #localOpen(): OpenMessage {
    const { fourOctetAs: _omit, ...caps } = this.#localCaps;
    return localOpen({
      asn: this.config.localAs,
      holdTime: this.#holdTime,
      bgpId: this.config.routerId,
      capabilities: caps,
    });
  }

  // ---- sending ----

  #requireEstablished(): Link {
    const p = this.#primary;
    if (p.fsm.name !== 'Established' || !p.link) throw new SessionNotEstablishedError(this.peerAddress, p.fsm.name);
    return p.link;
  }

  #enqueue(count: number, frame: (i: number, codec: SessionCodecOptions) => Uint8Array): Promise<void> {
    const run = this.#sendChain.then(() => this.#sendNow(count, frame));
    this.#sendChain = run.catch(() => {});
    return run;
  }

  async #sendNow(count: number, frame: (i: number, codec: SessionCodecOptions) => Uint8Array): Promise<void> {
    if (count === 0) return;
    const link = this.#requireEstablished();
    const slot = this.#primary;
    // RFC 4271 §8.2.2 Established: sending an UPDATE restarts the KeepaliveTimer (once per run of
    // writes, and again after each wait for the socket)
    const restartKeepalive = (): void => {
      if (slot.fsm.holdTime > 0 && this.#primary === slot && slot.link === link && slot.fsm.name === 'Established')
        this.#startFixed(slot, 'keepalive', keepaliveSeconds(slot.fsm.holdTime) * 1000);
    };
    for (let i = 0; i < count; i++) {
      if (this.#primary !== slot || slot.link !== link || slot.fsm.name !== 'Established')
        throw new SessionNotEstablishedError(this.peerAddress, this.#primary.fsm.name);
      if (!link.connection.write(frame(i, link.codec))) {
        restartKeepalive();
        await link.connection.drain();
      }
    }
    restartKeepalive();
  }
}

// ---- helpers ----

/** Throws unless `b` is whole UPDATE messages back to back (header, type and lengths checked). */
function checkUpdates(b: Uint8Array): void {
  let o = 0;
  while (o < b.length) {
    const len = o + 19 <= b.length ? (b[o + 16]! << 8) | b[o + 17]! : 0;
    if (len < 23 || o + len > b.length || b[o + 18] !== MessageType.UPDATE || b[o] !== 0xff || b[o + 15] !== 0xff)
      throw new TypeError(
        `sendFrames: byte ${o} does not start a whole UPDATE message: give buffers of complete UPDATEs (type 2, at least 23 bytes)`,
      );
    o += len;
  }
  if (b.length === 0) throw new TypeError('sendFrames: an empty buffer holds no UPDATE');
}

function isUpdateList(u: UpdateMessage | readonly UpdateMessage[]): u is readonly UpdateMessage[] {
  return Array.isArray(u);
}

function notificationError(kind: 'notification-sent' | 'notification-received', n: NotificationSpec): SessionError {
  let shutdownMessage: string | undefined;
  if (carriesShutdownCommunication(n.code, n.subcode) && n.data.length > 0) {
    const d = decodeShutdownCommunication(n.data);
    if (d.ok) shutdownMessage = d.text;
  }
  return {
    kind,
    code: n.code,
    subcode: n.subcode,
    data: n.data,
    description: describeNotification(n.code, n.subcode),
    ...(shutdownMessage !== undefined ? { shutdownMessage } : {}),
  };
}

/** TTL to send with and minimum TTL to accept: GTSM, eBGP single-hop/multihop, iBGP default. */
export function ttlPolicy(config: SessionConfig): { ttl?: number; minTtl?: number } {
  if (config.ttlSecurityHops !== undefined) return { ttl: 255, minTtl: 256 - config.ttlSecurityHops };
  if (config.peerAs !== config.localAs) return { ttl: config.multihop ?? 1 };
  return config.multihop !== undefined ? { ttl: config.multihop } : {};
}

export function localCapabilities(config: SessionConfig): Capabilities {
  const families = config.families ?? ['ipv4-unicast'];
  const c = config.capabilities ?? {};
  const gr = config.gracefulRestart;
  const gracefulRestart: GracefulRestartCapability | undefined = gr
    ? {
        restarting: gr.restarting ?? false,
        notification: false,
        restartTime: gr.restartTime,
        families: families.map((family) => ({ family, forwarding: gr.forwarding?.includes(family) ?? false })),
      }
    : undefined;
  return {
    multiprotocol: [...families],
    routeRefresh: c.routeRefresh ?? true,
    enhancedRouteRefresh: c.enhancedRouteRefresh ?? false,
    fourOctetAs: config.localAs,
    ...(gracefulRestart ? { gracefulRestart } : {}),
    extendedMessage: c.extendedMessage ?? false,
    addPath: c.addPath ?? [],
    ...(c.fqdn ? { fqdn: c.fqdn } : {}),
    unknown: [],
  };
}

function checkConfig(c: SessionConfig): void {
  const asOk = (n: number) => Number.isInteger(n) && n >= 1 && n <= 0xffffffff;
  if (!asOk(c.localAs)) throw new SessionConfigError(`localAs ${c.localAs} must be an integer in 1..4294967295`);
  if (!asOk(c.peerAs)) throw new SessionConfigError(`peerAs ${c.peerAs} must be an integer in 1..4294967295`);
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(c.routerId) || c.routerId === '0.0.0.0')
    throw new SessionConfigError(`routerId "${c.routerId}" must be a non-zero dotted quad such as 10.0.0.1`);
  const h = c.holdTime ?? 90;
  if (!Number.isInteger(h) || h < 0 || h > 65535 || h === 1 || h === 2)
    throw new SessionConfigError(`holdTime ${h} must be 0 or an integer in 3..65535 seconds`);
  if (c.ttlSecurityHops !== undefined && (c.ttlSecurityHops < 1 || c.ttlSecurityHops > 254))
    throw new SessionConfigError(`ttlSecurityHops ${c.ttlSecurityHops} must be in 1..254`);
  if (c.ttlSecurityHops !== undefined && c.multihop !== undefined)
    throw new SessionConfigError('multihop and ttlSecurityHops exclude each other (GTSM always sends TTL 255)');
  if (c.multihop !== undefined && (c.multihop < 1 || c.multihop > 255))
    throw new SessionConfigError(`multihop ${c.multihop} must be in 1..255`);
  if (c.gracefulRestart && (c.gracefulRestart.restartTime < 0 || c.gracefulRestart.restartTime > 4095))
    throw new SessionConfigError(`gracefulRestart.restartTime ${c.gracefulRestart.restartTime} must be in 0..4095 s`);
}
