// The bulk-UPDATE fast path, as a thin adapter around the session's connections (the Session
// API decodes every UPDATE into per-prefix objects and encodes from them; at a million prefixes
// that garbage dominates). While a session is Established, FastConnection takes UPDATE frames out
// of the byte stream, decodes them with the codec's decodeUpdateFast (IPv4 prefixes as packed
// numbers, no object per prefix) and hands them to the speaker; the session gets a KEEPALIVE in
// their place so its hold timer runs exactly as if it had seen them. Anything else (OPEN,
// KEEPALIVE, NOTIFICATION, ROUTE-REFRESH, End-of-RIB, an UPDATE the fast decoder rejects) goes
// to the session untouched, in order, so errors still produce the session's NOTIFICATION.
// Outgoing UPDATEs are encoded here straight from prefix keys and written to the connection.

import type { OutBatch, PrefixKey } from '../rib/index.js';
import type {
  Connection,
  ConnectionHandlers,
  ConnectOptions,
  Connector,
  IncomingConnectionTarget,
} from '../transport/index.js';
import {
  decodeUpdateFast,
  encodeKeepalive,
  encodeMessage,
  encodeUpdates,
  encodeWithdrawals,
  endOfRib,
  type Family,
  type FastUpdate,
  type SessionCodecOptions,
} from '../wire/index.js';
import { keyToNlri } from './packing.js';

const KEEPALIVE_FRAME = encodeKeepalive();

export interface FastMode {
  readonly codec: SessionCodecOptions;
  readonly onUpdate: (u: FastUpdate) => void;
}

export class FastConnection implements Connection {
  readonly inner: Connection;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Set by the speaker while this connection carries the Established session. */
  fast: FastMode | null = null;
  #handlers: ConnectionHandlers | undefined;
  #pending: Uint8Array | null = null;
  #passthrough = false;
  readonly #onClose: (c: FastConnection) => void;

  constructor(inner: Connection, onClose: (c: FastConnection) => void) {
    this.inner = inner;
    this.remoteAddress = inner.remoteAddress;
    this.remotePort = inner.remotePort;
    this.localAddress = inner.localAddress;
    this.localPort = inner.localPort;
    this.#onClose = onClose;
  }

  attach(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
    this.inner.attach({
      data: (chunk) => this.#data(chunk),
      close: (error) => {
        this.fast = null;
        this.#onClose(this);
        handlers.close(error);
      },
    });
  }

  write(chunk: Uint8Array): boolean {
    return this.inner.write(chunk);
  }
  drain(): Promise<void> {
    return this.inner.drain();
  }
  end(): void {
    this.inner.end();
  }
  destroy(): void {
    this.inner.destroy();
  }

  #data(chunk: Uint8Array): void {
    const h = this.#handlers!;
    if (this.#passthrough) {
      h.data(chunk);
      return;
    }
    let buf = chunk;
    if (this.#pending) {
      buf = new Uint8Array(this.#pending.length + chunk.length);
      buf.set(this.#pending, 0);
      buf.set(chunk, this.#pending.length);
      this.#pending = null;
    }
    let o = 0;
    let from = 0; // first byte not yet given to the session
    let tookUpdate = false;
    while (buf.length - o >= 19) {
      const len = (buf[o + 16]! << 8) | buf[o + 17]!;
      if (len < 19 || buf[o] !== 0xff || buf[o + 15] !== 0xff) {
        // not a frame we understand: the session's framer will say why
        this.#passthrough = true;
        h.data(buf.subarray(from));
        return;
      }
      if (buf.length - o < len) break;
      const fast = this.fast;
      if (fast && buf[o + 18] === 2 && len > 30) {
        let u: FastUpdate | undefined;
        try {
          u = decodeUpdateFast(buf.subarray(o, o + len), fast.codec);
        } catch {
          u = undefined; // the session decodes it again and sends the NOTIFICATION
        }
        if (u) {
          if (o > from) h.data(buf.subarray(from, o));
          fast.onUpdate(u);
          tookUpdate = true;
          from = o + len;
        }
      }
      o += len;
    }
    if (o > from) h.data(buf.subarray(from, o));
    // the session's hold timer restarts on every message (RFC 4271 §8.2.2)
    if (tookUpdate && this.fast) h.data(KEEPALIVE_FRAME);
    if (o < buf.length) this.#pending = buf.slice(o);
  }
}

/** Wraps a connector so that each connection it opens is a FastConnection reported to `onOpen`. */
export class FastConnector implements Connector {
  readonly inner: Connector;
  readonly #onOpen: (c: FastConnection) => void;
  readonly #onClose: (c: FastConnection) => void;
  constructor(inner: Connector, onOpen: (c: FastConnection) => void, onClose: (c: FastConnection) => void) {
    this.inner = inner;
    this.#onOpen = onOpen;
    this.#onClose = onClose;
  }
  get features() {
    return this.inner.features;
  }
  async connect(options: ConnectOptions, signal: AbortSignal): Promise<Connection> {
    const c = new FastConnection(await this.inner.connect(options, signal), this.#onClose);
    this.#onOpen(c);
    return c;
  }
}

/** The listener's view of a session, handing it wrapped connections. */
export function fastTarget(
  target: IncomingConnectionTarget,
  onOpen: (c: FastConnection) => void,
  onClose: (c: FastConnection) => void,
): IncomingConnectionTarget {
  return {
    peerAddress: target.peerAddress,
    acceptIncoming(connection: Connection): void {
      const c = new FastConnection(connection, onClose);
      onOpen(c);
      target.acceptIncoming(c);
    },
  };
}

// ---- encoding straight from prefix keys ----

const IPV4: Family = 'ipv4-unicast';

/**
 * IPv4 frames without add-path, in one pass: NLRI (or withdrawals) written straight from packed
 * keys (`addr * 64 + length`), the attributes encoded once by the codec and copied into each frame.
 */
function v4Frames(keys: readonly PrefixKey[], attrBytes: Uint8Array | null, max: number, out: Uint8Array[]): void {
  const announce = attrBytes !== null;
  const start = announce ? 23 + attrBytes.length : 21;
  // a withdrawal frame ends with the 2-byte (zero) path attribute length
  const limit = announce ? max : max - 2;
  const n = keys.length;
  let i = 0;
  while (i < n) {
    const b = Buffer.allocUnsafe(max);
    b.fill(0xff, 0, 16);
    b[18] = 2;
    let o = start;
    while (i < n) {
      const key = keys[i] as number;
      const len = key % 64;
      const nb = (len + 7) >> 3;
      if (o + 1 + nb > limit) break;
      const addr = (key - len) / 64;
      b[o++] = len;
      if (nb > 0) b[o++] = addr >>> 24;
      if (nb > 1) b[o++] = (addr >>> 16) & 255;
      if (nb > 2) b[o++] = (addr >>> 8) & 255;
      if (nb > 3) b[o++] = addr & 255;
      i++;
    }
    if (announce) {
      b[19] = 0;
      b[20] = 0;
      b[21] = attrBytes.length >>> 8;
      b[22] = attrBytes.length & 255;
      b.set(attrBytes, 23);
    } else {
      const wl = o - 21;
      b[19] = wl >>> 8;
      b[20] = wl & 255;
      b[o++] = 0;
      b[o++] = 0;
    }
    b[16] = o >>> 8;
    b[17] = o & 255;
    out.push(b.subarray(0, o));
  }
}

/** Adj-RIB-Out batches to UPDATE frames for `codec`. */
export function encodeBatches(batches: readonly OutBatch[], codec: SessionCodecOptions): Uint8Array[] {
  const out: Uint8Array[] = [];
  const max = codec.maxMessageLength;
  for (const b of batches) {
    const fast4 = b.family === IPV4 && !codec.addPathSend.has(IPV4);
    if (b.withdrawn.length > 0) {
      if (fast4) v4Frames(b.withdrawn, null, max, out);
      else for (const f of encodeWithdrawals(b.withdrawn.map(keyToNlri), b.family, codec)) out.push(f);
    }
    if (b.announced.length > 0 && b.attrSet) {
      const attrs = b.attrSet.attrs;
      if (fast4) {
        const nh = attrs.nextHop ?? '0.0.0.0';
        const probe = encodeUpdates(attrs, [keyToNlri(b.announced[0]!)], IPV4, nh, codec)[0]!;
        const tal = (probe[21]! << 8) | probe[22]!;
        v4Frames(b.announced, probe.slice(23, 23 + tal), max, out);
      } else if (b.family === IPV4) {
        for (const f of encodeUpdates(attrs, b.announced.map(keyToNlri), IPV4, attrs.nextHop ?? '0.0.0.0', codec))
          out.push(f);
      } else {
        const { nextHop, ...rest } = attrs;
        for (const f of encodeUpdates(rest, b.announced.map(keyToNlri), b.family, nextHop ?? '::', codec)) out.push(f);
      }
    }
  }
  return out;
}

export function endOfRibFrame(family: Family, codec: SessionCodecOptions): Uint8Array {
  return encodeMessage(endOfRib(family), codec);
}
