// The Speaker: desired state in (peers, advertised routes), streams out (best-route changes, peer
// state changes). It wires sessions to the RIB and policy: UPDATEs go through the import policy
// into the Loc-RIB; each Adj-RIB-Out follows the Loc-RIB and is flushed to its session as packed
// UPDATEs. Graceful restart both roles, route refresh both ways. Knows nothing of Kubernetes or Linux.
import { Observable, Subject } from 'rxjs';
import type { BgpState } from '../fsm/index.js';
import {
  compilePolicy,
  createExporter,
  createImporter,
  type LocalSpeaker,
  type Policy,
  parseCommunity,
  parseLargeCommunity,
} from '../policy/index.js';
import type { Importer } from '../rib/index.js';
import {
  AdjRibOut,
  type AttrSet,
  formatPrefixKey,
  LocRib,
  type PrefixKey,
  parsePrefixKey,
  type RibPeer,
  type Route,
} from '../rib/index.js';
import type { NegotiatedSession, SessionConfig, SessionError, SessionEvent } from '../session/index.js';
import { Session } from '../session/index.js';
import {
  BgpListener,
  type Clock,
  type Connection,
  type Connector,
  NodeTcpConnector,
  systemClock,
  type TimerHandle,
} from '../transport/index.js';
import type { Family, FastUpdate, PathAttributes } from '../wire/index.js';
import { encodeBatches, endOfRibFrame } from './packing.js';
import type {
  AdvertisedRoute,
  BestRouteChange,
  PeerConfig,
  PeerSnapshot,
  PeerStateChange,
  PeerStateName,
  RouteInfo,
  RouteSnapshot,
} from './types.js';

export interface SpeakerOptions {
  readonly asn: number;
  /** BGP identifier (dotted quad). */
  readonly routerId: string;
  /** Route reflector cluster id (default the router id when any peer is a route-reflector client). */
  readonly clusterId?: string;
  /** Where to accept connections (default all addresses, port 179); false: never listen. */
  readonly listen?: { readonly address: string; readonly port: number } | false;
  /**
   * Restarting speaker (RFC 4724): set the R bit in our graceful restart capability (we just
   * restarted) and the F bit for each family when `forwardingPreserved`.
   */
  readonly gracefulRestart?: {
    readonly restarting: boolean;
    readonly forwardingPreserved: boolean;
    /**
     * RFC 4724 §4.1 Selection_Deferral_Timer, seconds (default 60): while restarting, nothing is
     * advertised until every configured peer is Established and has sent End-of-RIB for each of
     * its families, or until this time has passed since start().
     */
    readonly selectionDeferral?: number;
  };
  readonly clock?: Clock;
  readonly connector?: Connector;
  /** Diagnostics (warnings, session errors). */
  readonly log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

export class SpeakerError extends Error {
  override readonly name = 'SpeakerError';
}

const LOCAL = 'local';

interface PeerEntry {
  config: PeerConfig;
  session: Session;
  unsubscribe: () => void;
  importPolicy: Policy;
  exportPolicy: Policy;
  state: PeerStateName;
  lastError: string | null;
  negotiated: NegotiatedSession | null;
  establishedAt: number | null;
  ribPeer: RibPeer | null;
  importer: Importer | null;
  out: AdjRibOut | null;
  /** Prefixes the import policy rejected (so "received" counts them). */
  rejected: Set<PrefixKey>;
  /** End-of-RIB still expected before stale routes are swept. */
  awaitingEor: Set<Family> | null;
  staleTimer: TimerHandle | null;
  /** EoR to send after the next flush (initial table). */
  eorPending: boolean;
  /** Families whose End-of-RIB the peer sent in the current session. */
  eorSeen: Set<Family>;
  sending: boolean;
}

/** Session-resetting differences between two peer configs (policy and next-hop changes are not). */
function sessionKey(c: PeerConfig): string {
  return JSON.stringify([
    c.asn,
    c.port ?? 179,
    c.localAddress ?? null,
    c.passive ?? false,
    c.holdTime ?? 90,
    c.connectRetryTime ?? 5,
    c.families ?? null,
    c.routeReflectorClient ?? false,
    c.ttl ?? null,
    c.gracefulRestart ?? false,
  ]);
}

export function defaultFamilies(address: string): Family[] {
  return address.includes(':') ? ['ipv6-unicast'] : ['ipv4-unicast', 'ipv6-unicast'];
}

export class Speaker {
  readonly options: SpeakerOptions;
  readonly rib: LocRib;
  readonly #clock: Clock;
  readonly #local: RibPeer;
  readonly #peers = new Map<string, PeerEntry>();
  /** Peers whose session is being reset (old one closing), with the config to start again with. */
  readonly #resetting = new Map<string, PeerConfig>();
  #listener: BgpListener | undefined;
  #advertised = new Map<PrefixKey, { key: string; attrs: PathAttributes }>();
  #flushScheduled = false;
  #stopped = false;
  /** Restarting speaker: advertisement deferred until End-of-RIB from every peer (or the timer). */
  #deferring: boolean;
  #deferralTimer: TimerHandle | null = null;
  readonly #startedAt: number;

  readonly #best = new Subject<readonly BestRouteChange[]>();
  readonly #states = new Subject<PeerStateChange>();
  /** Batches of best-route changes (one per RIB operation). Computed only while subscribed. */
  readonly bestRoutes$: Observable<readonly BestRouteChange[]> = this.#best.asObservable();
  /** Every peer state transition. */
  readonly peerStates$: Observable<PeerStateChange> = this.#states.asObservable();

  constructor(options: SpeakerOptions) {
    this.options = options;
    this.#clock = options.clock ?? systemClock;
    this.#startedAt = Date.now();
    this.#deferring = options.gracefulRestart?.restarting ?? false;
    this.rib = new LocRib({ initialCapacity: 1024 });
    this.#local = this.rib.addPeer({
      name: LOCAL,
      address: '0.0.0.0',
      routerId: options.routerId,
      asn: options.asn,
      type: 'local',
    });
    this.rib.onChange((slots) => {
      if (this.#best.observed) this.#best.next(this.#describeChanges(slots));
      this.#scheduleFlush();
    });
  }

  get localSpeaker(): LocalSpeaker {
    const rr = [...this.#peers.values()].some((p) => p.config.routeReflectorClient);
    return {
      asn: this.options.asn,
      routerId: this.options.routerId,
      ...(rr || this.options.clusterId !== undefined ? { routeReflector: true } : {}),
      ...(this.options.clusterId === undefined ? {} : { clusterId: this.options.clusterId }),
    };
  }

  /** Starts listening (unless `listen: false`). Peers may be added before or after. */
  async start(): Promise<void> {
    if (this.#deferring && this.#deferralTimer === null) {
      const secs = this.options.gracefulRestart?.selectionDeferral ?? 60;
      this.#deferralTimer = this.#clock.setTimeout(
        () => this.#endDeferral('selection deferral timer expired'),
        secs * 1000,
      );
    }
    const l = this.options.listen;
    if (l === false) return;
    this.#listener = new BgpListener({ address: l?.address ?? '::', port: l?.port ?? 179 });
    this.#listener.rejected$.subscribe((r) =>
      this.#log('info', `refused connection from ${r.remoteAddress}:${r.remotePort}: ${r.reason}`),
    );
    await this.#listener.listen();
    for (const p of this.#peers.values()) this.#listener.add(p.session);
  }

  /**
   * Hands over a connection accepted outside the speaker's own listener (another transport, a
   * test). Returns false, after closing it, when no peer is configured for its remote address.
   */
  acceptIncoming(connection: Connection): boolean {
    const entry = this.#peers.get(canonical(connection.remoteAddress));
    if (!entry) {
      connection.destroy();
      return false;
    }
    entry.session.acceptIncoming(connection);
    return true;
  }

  /** The port listened on (when listening). */
  get listenPort(): number | undefined {
    return this.#listener?.port;
  }

  // ---- peers ----

  /**
   * Makes the configured peers exactly `peers`: new ones are added, missing ones removed (Cease /
   * Peer De-configured), changed ones updated. Only changes to session parameters reset a session;
   * policy and next-hop changes are applied in place (import changes ask the peer for a route refresh).
   */
  setPeers(peers: readonly PeerConfig[]): void {
    const want = new Map(peers.map((p) => [canonical(p.address), p]));
    if (want.size !== peers.length) throw new SpeakerError('setPeers: a neighbor address is listed twice');
    for (const [addr, entry] of [...this.#peers]) if (!want.has(addr)) void this.#removePeer(addr, entry);
    for (const addr of [...this.#resetting.keys()]) if (!want.has(addr)) this.#resetting.delete(addr);
    for (const [addr, config] of want) {
      // a session being reset comes back with the latest config
      if (this.#resetting.has(addr)) {
        this.#resetting.set(addr, config);
        continue;
      }
      const entry = this.#peers.get(addr);
      if (!entry) this.#addPeer(addr, config);
      else this.#changePeer(addr, entry, config);
    }
  }

  addPeer(config: PeerConfig): void {
    const addr = canonical(config.address);
    if (this.#peers.has(addr) || this.#resetting.has(addr))
      throw new SpeakerError(`peer ${config.address} is already configured`);
    this.#addPeer(addr, config);
  }

  async removePeer(address: string): Promise<void> {
    const addr = canonical(address);
    this.#resetting.delete(addr);
    const entry = this.#peers.get(addr);
    if (entry) await this.#removePeer(addr, entry);
  }

  #addPeer(addr: string, config: PeerConfig): void {
    const local = this.options.asn;
    const importPolicy = compilePolicy(config.import, { field: `neighbor ${config.address} import`, localAs: local });
    const exportPolicy = compilePolicy(config.export, { field: `neighbor ${config.address} export`, localAs: local });
    const connector = this.options.connector ?? new NodeTcpConnector();
    const session = new Session(this.#sessionConfig(config), { clock: this.#clock, connector });
    const entry: PeerEntry = {
      config,
      session,
      unsubscribe: () => {},
      importPolicy,
      exportPolicy,
      state: 'Idle',
      lastError: null,
      negotiated: null,
      establishedAt: null,
      ribPeer: null,
      importer: null,
      out: null,
      rejected: new Set(),
      awaitingEor: null,
      staleTimer: null,
      eorPending: false,
      eorSeen: new Set(),
      sending: false,
    };
    const sub = session.events$.subscribe((e) => this.#onEvent(entry, e));
    entry.unsubscribe = () => sub.unsubscribe();
    this.#peers.set(addr, entry);
    this.#listener?.add(session);
    const rrBefore = this.localSpeaker.routeReflector;
    session.start();
    if (config.routeReflectorClient && !rrBefore) this.#rebuildExporters();
  }

  #changePeer(addr: string, entry: PeerEntry, config: PeerConfig): void {
    const old = entry.config;
    if (sessionKey(old) !== sessionKey(config)) {
      this.#log('info', `neighbor ${config.address}: session parameters changed, resetting the session`);
      this.#resetting.set(addr, config);
      void this.#removePeer(addr, entry).then(() => {
        const latest = this.#resetting.get(addr);
        this.#resetting.delete(addr);
        if (latest && !this.#stopped && !this.#peers.has(addr)) this.#addPeer(addr, latest);
      });
      return;
    }
    entry.config = config;
    const local = this.options.asn;
    if (JSON.stringify(old.import ?? null) !== JSON.stringify(config.import ?? null)) {
      entry.importPolicy = compilePolicy(config.import, { field: `neighbor ${config.address} import`, localAs: local });
      if (entry.ribPeer && entry.negotiated) {
        entry.importer = createImporter({ local: this.localSpeaker, peer: entry.ribPeer, policy: entry.importPolicy });
        this.#requestRefresh(entry);
      }
    }
    if (
      JSON.stringify(old.export ?? null) !== JSON.stringify(config.export ?? null) ||
      old.nextHopSelf !== config.nextHopSelf ||
      old.ipv6NextHop !== config.ipv6NextHop
    ) {
      entry.exportPolicy = compilePolicy(config.export, { field: `neighbor ${config.address} export`, localAs: local });
      if (entry.out && entry.ribPeer && entry.negotiated) {
        entry.out.setExporter(this.#exporter(entry, entry.ribPeer, entry.negotiated));
        this.#scheduleFlush();
      }
    }
  }

  /** Import policy changed: ask the peer to send its routes again (RFC 2918), per family. */
  #requestRefresh(entry: PeerEntry): void {
    const n = entry.negotiated;
    if (!n) return;
    if (!n.routeRefresh) {
      this.#log(
        'warn',
        `neighbor ${entry.config.address} does not support route refresh; the new import policy applies to new routes only`,
      );
      return;
    }
    for (const f of n.families) entry.session.sendRouteRefresh(f, 0);
  }

  async #removePeer(addr: string, entry: PeerEntry): Promise<void> {
    this.#peers.delete(addr);
    this.#listener?.remove(entry.session);
    entry.session.automaticStop(3); // Cease / Peer De-configured
    await entry.session.close().catch(() => {});
    entry.unsubscribe();
    this.#dropRoutes(entry);
    if (entry.config.routeReflectorClient) this.#rebuildExporters();
    this.#checkDeferral();
  }

  #dropRoutes(entry: PeerEntry): void {
    if (entry.staleTimer) this.#clock.clearTimeout(entry.staleTimer);
    entry.staleTimer = null;
    entry.out?.close();
    entry.out = null;
    if (entry.ribPeer) this.rib.removePeer(entry.ribPeer);
    entry.ribPeer = null;
    entry.importer = null;
    entry.rejected.clear();
    entry.awaitingEor = null;
  }

  #rebuildExporters(): void {
    for (const e of this.#peers.values()) {
      if (e.out && e.ribPeer && e.negotiated) e.out.setExporter(this.#exporter(e, e.ribPeer, e.negotiated));
    }
    this.#scheduleFlush();
  }

  #sessionConfig(c: PeerConfig): SessionConfig {
    const families = c.families ?? defaultFamilies(c.address);
    const gr = this.options.gracefulRestart;
    const ebgp = c.asn !== this.options.asn;
    return {
      localAs: this.options.asn,
      routerId: this.options.routerId,
      peerAddress: c.address,
      peerAs: c.asn,
      ...(c.port === undefined ? {} : { peerPort: c.port }),
      passive: c.passive ?? false,
      holdTime: c.holdTime ?? 90,
      families,
      fastUpdates: true,
      capabilities: { routeRefresh: true, enhancedRouteRefresh: false, extendedMessage: false },
      ...(c.gracefulRestart
        ? {
            gracefulRestart: {
              restartTime: c.gracefulRestart.restartTime,
              restarting: gr?.restarting ?? false,
              forwarding: gr?.forwardingPreserved ? families : [],
            },
          }
        : {}),
      ...(ebgp && c.ttl !== undefined && c.ttl > 1 ? { multihop: c.ttl } : {}),
      ...(c.localAddress === undefined ? {} : { localAddress: c.localAddress }),
      connectRetry: { base: c.connectRetryTime ?? 5, max: Math.max(c.connectRetryTime ?? 5, 120) },
    };
  }

  // ---- session events ----

  #onEvent(entry: PeerEntry, e: SessionEvent): void {
    try {
      switch (e.type) {
        case 'state': {
          const from = entry.state;
          entry.state = e.to as PeerStateName;
          if (e.lastError) entry.lastError = describeError(e.lastError);
          if (e.to === 'Established') entry.establishedAt = Date.now();
          else if (from === 'Established') entry.establishedAt = null;
          this.#states.next({
            address: entry.config.address,
            from,
            to: e.to as PeerStateName,
            ...(e.lastError ? { error: describeError(e.lastError) } : {}),
          });
          break;
        }
        case 'established':
          this.#onEstablished(entry, e.negotiated);
          break;
        case 'down':
          this.#onDown(entry, e.retainStale, e.negotiated);
          break;
        case 'fastUpdate':
          this.#onFastUpdate(entry, e.update);
          break;
        case 'endOfRib':
          this.#onEndOfRib(entry, e.family);
          break;
        case 'routeRefresh':
          if (e.subtype === 0 && entry.out) {
            // RFC 2918: send the whole Adj-RIB-Out again
            entry.out.reset();
            entry.out.markAll();
            this.#scheduleFlush();
          }
          break;
        case 'warning':
          this.#log('warn', e.message);
          break;
      }
    } catch (err) {
      this.#log('error', `neighbor ${entry.config.address}: ${(err as Error).stack ?? String(err)}`);
    }
  }

  #onEstablished(entry: PeerEntry, n: NegotiatedSession): void {
    entry.negotiated = n;
    entry.lastError = null;
    entry.eorSeen = new Set();
    let peer = entry.ribPeer;
    const type = n.peerAs === this.options.asn ? 'ibgp' : 'ebgp';
    if (peer && (peer.routerId !== n.peerId || peer.asn !== n.peerAs)) {
      this.#dropRoutes(entry);
      peer = null;
    }
    if (peer) {
      // a graceful restart: keep stale routes until End-of-RIB, unless the peer kept no forwarding state
      if (entry.staleTimer) this.#clock.clearTimeout(entry.staleTimer);
      entry.staleTimer = null;
      const pgr = n.peerGracefulRestart;
      const kept = new Set((pgr?.families ?? []).filter((f) => f.forwarding).map((f) => f.family));
      if (!pgr || kept.size === 0) {
        this.rib.sweepStale(peer);
        entry.awaitingEor = null;
      } else {
        entry.awaitingEor = new Set(n.families);
        const ms = Math.max(1, pgr.restartTime || 120) * 1000;
        entry.staleTimer = this.#clock.setTimeout(() => this.#sweep(entry, 'no End-of-RIB in time'), ms);
      }
    } else {
      peer = this.rib.addPeer({
        name: entry.config.address,
        address: entry.config.address,
        routerId: n.peerId,
        asn: n.peerAs,
        type,
        rrClient: entry.config.routeReflectorClient ?? false,
      });
      entry.ribPeer = peer;
    }
    entry.importer = createImporter({ local: this.localSpeaker, peer, policy: entry.importPolicy });
    entry.out = new AdjRibOut(this.rib, peer, this.#exporter(entry, peer, n), { families: n.families });
    entry.out.markAll();
    entry.eorPending = true;
    this.#scheduleFlush();
  }

  #sweep(entry: PeerEntry, why: string): void {
    entry.staleTimer = null;
    entry.awaitingEor = null;
    const peer = entry.ribPeer;
    if (!peer) return;
    this.#log('info', `neighbor ${entry.config.address}: sweeping stale routes (${why})`);
    this.rib.sweepStale(peer);
    if (!entry.negotiated) {
      // still down: forget the peer
      this.#dropRoutes(entry);
    }
  }

  #onDown(entry: PeerEntry, retainStale: boolean, n: NegotiatedSession): void {
    entry.negotiated = null;
    entry.out?.close();
    entry.out = null;
    entry.eorPending = false;
    entry.sending = false;
    const peer = entry.ribPeer;
    if (!peer) return;
    if (retainStale && entry.config.gracefulRestart) {
      const stale = this.rib.markStale(peer);
      const secs = n.peerGracefulRestart?.restartTime ?? entry.config.gracefulRestart.restartTime;
      this.#log('info', `neighbor ${entry.config.address}: graceful restart, keeping ${stale} routes as stale`);
      if (entry.staleTimer) this.#clock.clearTimeout(entry.staleTimer);
      entry.staleTimer = this.#clock.setTimeout(
        () => this.#sweep(entry, `restart time ${secs} s passed`),
        Math.max(1, secs) * 1000,
      );
    } else {
      this.#dropRoutes(entry);
    }
  }

  #endDeferral(why: string): void {
    if (!this.#deferring) return;
    this.#deferring = false;
    if (this.#deferralTimer) this.#clock.clearTimeout(this.#deferralTimer);
    this.#deferralTimer = null;
    this.#log('info', `graceful restart: advertising the table (${why})`);
    this.#scheduleFlush();
  }

  #checkDeferral(): void {
    if (!this.#deferring) return;
    for (const e of this.#peers.values()) {
      const n = e.negotiated;
      if (!n || e.state !== 'Established') return;
      for (const f of n.families) if (!e.eorSeen.has(f)) return;
    }
    this.#endDeferral('End-of-RIB received from every peer');
  }

  #onEndOfRib(entry: PeerEntry, family: Family): void {
    entry.eorSeen.add(family);
    this.#checkDeferral();
    const w = entry.awaitingEor;
    if (!w) return;
    w.delete(family);
    if (w.size === 0) {
      if (entry.staleTimer) this.#clock.clearTimeout(entry.staleTimer);
      this.#sweep(entry, 'End-of-RIB received');
    }
  }

  #onFastUpdate(entry: PeerEntry, u: FastUpdate): void {
    const peer = entry.ribPeer;
    if (!peer) return;
    try {
      if (u.warnings.length > 0) this.#log('debug', `neighbor ${entry.config.address}: ${u.warnings.join('; ')}`);
      if (u.kind === 'treat-as-withdraw') {
        this.#log('warn', `neighbor ${entry.config.address}: treat-as-withdraw: ${u.reason ?? ''}`);
        this.#apply(entry, peer, null, [], [...u.withdrawn, ...u.nlri]);
        if (u.mpReach)
          this.#apply(
            entry,
            peer,
            null,
            [],
            u.mpReach.nlri.map((n) => keyOfNlri(n.prefix)),
          );
      } else {
        this.#apply(entry, peer, u.attributes, u.nlri, u.withdrawn);
        if (u.mpReach) {
          const { nextHop: _v4, ...rest } = u.attributes;
          this.#apply(
            entry,
            peer,
            { ...rest, nextHop: u.mpReach.nextHop },
            u.mpReach.nlri.map((n) => keyOfNlri(n.prefix)),
            [],
          );
        }
      }
      if (u.mpUnreach)
        this.#apply(
          entry,
          peer,
          null,
          [],
          u.mpUnreach.withdrawn.map((n) => keyOfNlri(n.prefix)),
        );
    } catch (err) {
      this.#log('error', `neighbor ${entry.config.address}: ${(err as Error).stack ?? String(err)}`);
    }
  }

  /** Import policy, rejected bookkeeping, then the Loc-RIB. */
  #apply(
    entry: PeerEntry,
    peer: RibPeer,
    attrs: PathAttributes | null,
    announced: ArrayLike<PrefixKey>,
    withdrawn: ArrayLike<PrefixKey>,
  ): void {
    const rej = entry.rejected;
    if (rej.size > 0) for (let i = 0; i < withdrawn.length; i++) rej.delete(withdrawn[i]!);
    if (announced.length === 0) {
      if (withdrawn.length > 0) this.rib.applyUpdate(peer, null, [], withdrawn);
      return;
    }
    const imp = entry.importer;
    if (!imp || !attrs) {
      this.rib.applyUpdate(peer, attrs, announced, withdrawn);
      return;
    }
    if (!imp.prefixDependent) {
      const r = imp.importRoute(attrs, announced[0]!);
      if (r) {
        if (rej.size > 0) for (let i = 0; i < announced.length; i++) rej.delete(announced[i]!);
        this.rib.applyUpdate(peer, r, announced, withdrawn);
      } else {
        for (let i = 0; i < announced.length; i++) rej.add(announced[i]!);
        this.rib.applyUpdate(peer, null, [], [...Array.from(withdrawn), ...Array.from(announced)]);
      }
      return;
    }
    const rejected: PrefixKey[] = [];
    const groups = new Map<PathAttributes, PrefixKey[]>();
    for (let i = 0; i < announced.length; i++) {
      const k = announced[i]!;
      const r = imp.importRoute(attrs, k);
      if (!r) {
        rejected.push(k);
        rej.add(k);
        continue;
      }
      if (rej.size > 0) rej.delete(k);
      let g = groups.get(r);
      if (!g) {
        g = [];
        groups.set(r, g);
      }
      g.push(k);
    }
    this.rib.applyUpdate(peer, null, [], [...Array.from(withdrawn), ...rejected]);
    for (const [a, keys] of groups) this.rib.applyUpdate(peer, a, keys, []);
  }

  #exporter(entry: PeerEntry, peer: RibPeer, n: NegotiatedSession) {
    const c = entry.config;
    const v6Session = n.localAddress.includes(':') && !n.localAddress.startsWith('::ffff:');
    const local4 = v6Session ? undefined : n.localAddress.replace(/^::ffff:/, '');
    const local6 = c.ipv6NextHop ?? (v6Session ? n.localAddress : local4 ? `::ffff:${local4}` : undefined);
    return createExporter({
      local: this.localSpeaker,
      peer,
      ...(local4 === undefined ? {} : { localAddress: local4 }),
      ...(local6 === undefined ? {} : { localAddressV6: local6 }),
      ...(c.nextHopSelf ? { nextHop: 'self' as const } : {}),
      policy: entry.exportPolicy,
    });
  }

  // ---- sending ----

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#deferring) return;
    for (const entry of this.#peers.values()) {
      const out = entry.out;
      const n = entry.negotiated;
      if (!out || !n || entry.sending) continue;
      if (out.pendingCount === 0 && !entry.eorPending) continue;
      const batches = out.takeBatches();
      const eor = entry.eorPending;
      entry.eorPending = false;
      const frames = encodeBatches(batches, n.codec);
      if (eor) for (const f of n.families) frames.push(endOfRibFrame(f, n.codec));
      if (frames.length === 0) continue;
      const done = entry.session.sendFrames(frames);
      entry.sending = true;
      done.then(
        () => {
          if (entry.out !== out) return;
          entry.sending = false;
          if (out.pendingCount > 0) this.#scheduleFlush();
        },
        () => {
          entry.sending = false;
        },
      );
    }
  }

  // ---- advertised routes ----

  /** Makes our own advertised routes exactly `routes`: new and changed ones are announced, missing ones withdrawn. */
  setAdvertised(routes: readonly AdvertisedRoute[]): void {
    const next = new Map<PrefixKey, { key: string; attrs: PathAttributes }>();
    for (const r of routes) {
      const key = parsePrefixKey(r.prefix);
      const attrs = advertisedAttrs(r);
      next.set(key, { key: JSON.stringify(attrs), attrs });
    }
    const withdrawn: PrefixKey[] = [];
    for (const k of this.#advertised.keys()) if (!next.has(k)) withdrawn.push(k);
    const groups = new Map<string, { attrs: PathAttributes; keys: PrefixKey[] }>();
    for (const [k, v] of next) {
      const cur = this.#advertised.get(k);
      if (cur && cur.key === v.key) continue;
      let g = groups.get(v.key);
      if (!g) {
        g = { attrs: v.attrs, keys: [] };
        groups.set(v.key, g);
      }
      g.keys.push(k);
    }
    this.#advertised = next;
    if (withdrawn.length > 0) this.rib.applyUpdate(this.#local, null, [], withdrawn);
    for (const g of groups.values()) this.rib.applyUpdate(this.#local, g.attrs, g.keys, []);
  }

  // ---- snapshots ----

  peers(): PeerSnapshot[] {
    const now = Date.now();
    return [...this.#peers.values()].map((e) => {
      const c = e.config;
      const accepted = e.ribPeer?.routeCount ?? 0;
      return {
        address: c.address,
        asn: c.asn,
        ...(c.description === undefined ? {} : { description: c.description }),
        state: e.state,
        uptimeSeconds: e.establishedAt === null ? null : Math.max(0, (now - e.establishedAt) / 1000),
        establishedAt: e.establishedAt,
        routerId: e.negotiated?.peerId ?? e.ribPeer?.routerId ?? null,
        holdTime: e.negotiated?.holdTime ?? null,
        families: e.negotiated?.families ?? c.families ?? defaultFamilies(c.address),
        prefixes: { received: accepted + e.rejected.size, accepted, advertised: e.out?.size ?? 0 },
        lastError: e.lastError,
        restarting: e.ribPeer !== null && e.ribPeer.staleCount > 0 && e.staleTimer !== null,
      };
    });
  }

  /** Loc-RIB: every prefix with its candidate paths, best first. */
  routes(filter: { family?: Family; prefix?: string; limit?: number } = {}): RouteSnapshot[] {
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    const out: RouteSnapshot[] = [];
    const rib = this.rib;
    const slots =
      filter.prefix !== undefined ? [rib.slotOf(parsePrefixKey(filter.prefix))].filter((s) => s >= 0) : rib.bestSlots();
    for (const slot of slots) {
      const key = rib.keyOf(slot);
      const family: Family = typeof key === 'number' ? 'ipv4-unicast' : 'ipv6-unicast';
      if (filter.family !== undefined && filter.family !== family) continue;
      const best = rib.bestAt(slot);
      if (!best) continue;
      const paths = rib
        .candidates(key)
        .map((r) => ({ ...this.#routeInfo(r), best: r.peer === best.peer }))
        .sort((a, b) => Number(b.best) - Number(a.best));
      out.push({ prefix: formatPrefixKey(key), family, paths });
      if (out.length >= limit) break;
    }
    return out;
  }

  get startedAt(): number {
    return this.#startedAt;
  }

  #routeInfo(r: Route): RouteInfo {
    return routeInfo(r.peer.name === LOCAL ? LOCAL : r.peer.address, r.attrSet, r.stale);
  }

  #describeChanges(slots: readonly number[]): BestRouteChange[] {
    const out: BestRouteChange[] = [];
    for (const slot of slots) {
      // the RIB releases a slot only after its listeners ran, so every changed slot has its key
      const key = this.rib.keyOf(slot);
      const b = this.rib.bestAt(slot);
      out.push({
        prefix: formatPrefixKey(key),
        family: typeof key === 'number' ? 'ipv4-unicast' : 'ipv6-unicast',
        best: b ? this.#routeInfo(b) : null,
      });
    }
    return out;
  }

  // ---- shutdown ----

  /** Cease / Administrative Shutdown to every peer, then stop listening. */
  async stop(message = 'tortie shutting down'): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(
      [...this.#peers.values()].map(async (e) => {
        await e.session.stop(message).catch(() => {});
        await e.session.close().catch(() => {});
        e.unsubscribe();
        if (e.staleTimer) this.#clock.clearTimeout(e.staleTimer);
      }),
    );
    if (this.#deferralTimer) this.#clock.clearTimeout(this.#deferralTimer);
    await this.#listener?.close();
    this.#best.complete();
    this.#states.complete();
  }

  #log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.options.log?.(level, message);
  }
}

// ---- helpers ----

function canonical(address: string): string {
  return formatPrefixKey(parsePrefixKey(`${address}/${address.includes(':') ? 128 : 32}`));
}

function keyOfNlri(p: { family: Family; addr: number | Uint8Array; length: number }): PrefixKey {
  if (p.family === 'ipv4-unicast') return (p.addr as number) * 64 + p.length;
  return parsePrefixKeyFromBytes(p.addr as Uint8Array, p.length);
}

const HEX = '0123456789abcdef';
function parsePrefixKeyFromBytes(addr: Uint8Array, length: number): string {
  // same form as rib/prefix.ts v6Key: hex nibbles covering `length`, then /length
  const nibbles = Math.ceil(length / 4);
  let s = '';
  for (let i = 0; i < nibbles; i++) {
    const b = addr[i >> 1]!;
    s += HEX[i & 1 ? b & 15 : b >> 4];
  }
  return `${s}/${length}`;
}

function describeError(e: SessionError): string {
  if (e.kind === 'connection') return e.message;
  const dir = e.kind === 'notification-sent' ? 'sent' : 'received';
  return `NOTIFICATION ${dir}: ${e.description}${e.shutdownMessage ? ` (${e.shutdownMessage})` : ''}`;
}

export function advertisedAttrs(r: AdvertisedRoute): PathAttributes {
  const communities = (r.communities ?? []).map((c, i) =>
    parseCommunity(c, `advertised ${r.prefix} communities[${i}]`),
  );
  const large = (r.largeCommunities ?? []).map((c, i) =>
    typeof c === 'string' ? parseLargeCommunity(c, `advertised ${r.prefix} largeCommunities[${i}]`) : c,
  );
  return {
    origin: 0,
    asPath: [],
    ...(r.nextHop === undefined ? {} : { nextHop: r.nextHop }),
    ...(r.med === undefined ? {} : { med: r.med }),
    ...(r.localPref === undefined ? {} : { localPref: r.localPref }),
    ...(communities.length ? { communities } : {}),
    ...(large.length ? { largeCommunities: large } : {}),
  };
}

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

export function routeInfo(from: string, set: AttrSet, stale: boolean): RouteInfo {
  const a = set.attrs;
  const asPath: number[] = [];
  const parts: string[] = [];
  for (const seg of a.asPath ?? []) {
    if (seg.type === 2) {
      asPath.push(...seg.asns);
      parts.push(...seg.asns.map(String));
    } else if (seg.type === 1) parts.push(`{${seg.asns.join(',')}}`);
    else parts.push(`(${seg.asns.join(' ')})`);
  }
  return {
    from,
    nextHop: a.nextHop ?? null,
    asPath,
    asPathText: parts.join(' '),
    origin: ORIGINS[a.origin ?? 0] ?? 'incomplete',
    med: a.med ?? null,
    localPref: a.localPref ?? null,
    communities: (a.communities ?? []).map(formatCommunity),
    largeCommunities: (a.largeCommunities ?? []).map((l) => `${l.global}:${l.local1}:${l.local2}`),
    stale,
  };
}

const WELL_KNOWN: Readonly<Record<number, string>> = {
  4294967041: 'no-export',
  4294967042: 'no-advertise',
  4294967043: 'no-export-subconfed',
  4294967044: 'no-peer',
};

export function formatCommunity(c: number): string {
  return WELL_KNOWN[c] ?? `${Math.floor(c / 65536)}:${c & 0xffff}`;
}

export type { BgpState };
export { Observable };
