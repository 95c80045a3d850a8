// Test kit for the session shell: a scripted peer on the far end of an in-memory connection, a
// manual clock and a manual connector.

import type { SessionEvent } from '../../src/session/index.js';
import { Session, type SessionConfig } from '../../src/session/index.js';
import {
  ManualClock,
  type MemoryConnection,
  MemoryConnector,
  memoryConnectionPair,
} from '../../src/transport/index.js';
import {
  type BgpMessage,
  type Capabilities,
  DEFAULT_CODEC_OPTIONS,
  decodeMessage,
  encodeMessage,
  localOpen,
  MessageFramer,
  type OpenMessage,
  type SessionCodecOptions,
} from '../../src/wire/index.js';

export const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

export const PEER_CAPS: Omit<Capabilities, 'fourOctetAs'> = {
  multiprotocol: ['ipv4-unicast'],
  routeRefresh: true,
  enhancedRouteRefresh: false,
  extendedMessage: false,
  addPath: [],
  unknown: [],
};

export function peerOpen(patch: Partial<OpenMessage> = {}, asn = 65002, bgpId = '10.0.0.2'): OpenMessage {
  return { ...localOpen({ asn, holdTime: 90, bgpId, capabilities: PEER_CAPS }), ...patch };
}

/** The far end of a connection, played by the test. */
export class FakePeer {
  readonly conn: MemoryConnection;
  readonly frames: Uint8Array[] = [];
  readonly messages: BgpMessage[] = [];
  closed = false;
  codec: SessionCodecOptions = DEFAULT_CODEC_OPTIONS;
  readonly #framer = new MessageFramer();

  constructor(conn: MemoryConnection) {
    this.conn = conn;
    conn.attach({
      data: (chunk) => {
        this.#framer.push(chunk);
        for (let f = this.#framer.next(); f; f = this.#framer.next()) {
          this.frames.push(f.slice());
          const r = decodeMessage(f, this.codec);
          if (r.kind !== 'ignored') this.messages.push(r.message);
        }
      },
      close: () => {
        this.closed = true;
      },
    });
  }

  send(m: BgpMessage): void {
    this.conn.write(encodeMessage(m, this.codec));
  }

  sendRaw(bytes: Uint8Array): void {
    this.conn.write(bytes);
  }

  types(): number[] {
    return this.messages.map((m) => m.type);
  }

  last(): BgpMessage | undefined {
    return this.messages.at(-1);
  }
}

export const BASE: SessionConfig = {
  localAs: 65001,
  routerId: '10.0.0.1',
  peerAddress: '192.0.2.2',
  peerAs: 65002,
  holdTime: 90,
};

export class Rig {
  readonly clock = new ManualClock();
  readonly connector = new MemoryConnector({ address: '192.0.2.1', port: 50000 });
  readonly session: Session;
  readonly events: SessionEvent[] = [];

  constructor(config: Partial<SessionConfig> = {}, random = () => 1) {
    this.session = new Session({ ...BASE, ...config }, { clock: this.clock, connector: this.connector, random });
    this.session.events$.subscribe((e) => this.events.push(e));
  }

  states(): string[] {
    return this.events.flatMap((e) => (e.type === 'state' ? [e.to] : []));
  }

  /** Accepts the pending outgoing attempt; returns the peer on its far end. */
  async acceptOutgoing(): Promise<FakePeer> {
    const attempt = this.connector.pending;
    if (!attempt) throw new Error('no pending connect attempt');
    const peer = new FakePeer(attempt.accept());
    await flush();
    return peer;
  }

  /** A connection from the peer to us (through acceptIncoming, as the listener does). */
  async incoming(): Promise<FakePeer> {
    const [theirs, ours] = memoryConnectionPair(
      { address: BASE.peerAddress, port: 40000 + this.events.length },
      { address: '192.0.2.1', port: 179 },
    );
    const peer = new FakePeer(theirs);
    this.session.acceptIncoming(ours);
    await flush();
    return peer;
  }

  /** Start, accept the outgoing connection and complete the OPEN/KEEPALIVE exchange. */
  async establish(open: OpenMessage = peerOpen()): Promise<FakePeer> {
    this.session.start();
    const peer = await this.acceptOutgoing();
    peer.send(open);
    peer.send({ type: 4 });
    peer.codec = { ...DEFAULT_CODEC_OPTIONS, fourOctetAs: true };
    await flush();
    return peer;
  }

  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    await flush();
  }
}

export const hex = (u: Uint8Array | undefined): string => (u ? Buffer.from(u).toString('hex') : '');

export function notificationBytes(code: number, subcode: number, data: Uint8Array = new Uint8Array(0)): string {
  return hex(encodeMessage({ type: 3, code, subcode, data }, DEFAULT_CODEC_OPTIONS));
}
