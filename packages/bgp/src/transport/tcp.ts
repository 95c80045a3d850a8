// node:net connections.
//
// TTL and GTSM: node:net exposes neither IP_TTL / IPV6_UNICAST_HOPS for TCP sockets nor
// IP_MINTTL / IPV6_MINHOPCOUNT, and has no way to run setsockopt on a socket before connect().
// NodeTcpConnector therefore reports features { ttl: false, minTtl: false, md5: false }: packets
// leave with the system default TTL (net.ipv4.ip_default_ttl, 64), and the RFC 5082 receive
// check (drop segments whose TTL is below 255 − hops) is not made. Doing either needs a socket
// created outside node:net: a native addon that calls socket(), setsockopt(IP_TTL / IP_MINTTL /
// TCP_MD5SIG) and bind() before connect(), then hands the descriptor to `new net.Socket({ fd })`;
// for accepted connections the same options set on the listening socket (IP_MINTTL and
// TCP_MD5SIG per peer address are inherited by accepted sockets on Linux). Such a connector
// implements the Connector interface below; BgpListener would take the listening descriptor the
// same way. Until then GTSM can be enforced by the host firewall (e.g. nftables `ip ttl < 254
// tcp dport 179 drop` for one hop).

import net from 'node:net';
import type { Connection, ConnectionHandlers, ConnectOptions, Connector, ConnectorFeatures } from './types.js';

/** A Connection over a connected net.Socket. */
export class NodeTcpConnection implements Connection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly socket: net.Socket;
  #handlers: ConnectionHandlers | undefined;
  #early: Uint8Array[] = [];
  #closed = false;
  #closeError: Error | undefined;
  #closeDelivered = false;

  constructor(socket: net.Socket) {
    this.socket = socket;
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = normalizeAddress(socket.localAddress ?? '');
    this.localPort = socket.localPort ?? 0;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.#handlers) this.#handlers.data(chunk);
      else this.#early.push(chunk);
    });
    socket.on('error', (err) => {
      this.#closeError ??= err;
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#deliverClose();
    });
    // BGP has no half-close: when the peer ends, we end too.
    socket.on('end', () => socket.end());
  }

  attach(handlers: ConnectionHandlers): void {
    if (this.#handlers) throw new Error('NodeTcpConnection.attach called twice');
    this.#handlers = handlers;
    for (const c of this.#early.splice(0)) handlers.data(c);
    if (this.#closed) this.#deliverClose();
  }

  #deliverClose(): void {
    if (this.#closeDelivered || !this.#handlers) return;
    this.#closeDelivered = true;
    this.#handlers.close(this.#closeError);
  }

  write(chunk: Uint8Array): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    return this.socket.write(chunk);
  }

  drain(): Promise<void> {
    const s = this.socket;
    if (s.destroyed || s.writableEnded || !s.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        s.off('drain', done);
        s.off('close', done);
        resolve();
      };
      s.on('drain', done);
      s.on('close', done);
    });
  }

  end(): void {
    if (this.socket.destroyed) return;
    this.socket.end();
    // Do not wait forever for a peer that does not close its side.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** "::ffff:127.0.0.1" (dual-stack sockets) → "127.0.0.1". */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** Outgoing connections with node:net. TTL, GTSM and TCP-MD5 are not available (see above). */
export class NodeTcpConnector implements Connector {
  readonly features: ConnectorFeatures = { ttl: false, minTtl: false, md5: false };
  /** Give up on a SYN that gets no answer after this long (the ConnectRetryTimer also restarts it). */
  readonly timeoutMs: number;

  constructor(opts: { timeoutMs?: number } = {}) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  connect(options: ConnectOptions, signal: AbortSignal): Promise<Connection> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(new Error('connect aborted'));
        return;
      }
      const socket = net.connect({
        host: options.remoteAddress,
        port: options.remotePort,
        ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
        timeout: this.timeoutMs,
      });
      const fail = (err: Error) => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const onAbort = () => fail(new Error('connect aborted'));
      const onTimeout = () => fail(new Error(`connect to ${options.remoteAddress}:${options.remotePort} timed out`));
      const onConnect = () => {
        cleanup();
        socket.setTimeout(0);
        resolve(new NodeTcpConnection(socket));
      };
      const cleanup = () => {
        signal.removeEventListener('abort', onAbort);
        socket.off('error', fail);
        socket.off('timeout', onTimeout);
        socket.off('connect', onConnect);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', fail);
      socket.once('timeout', onTimeout);
      socket.once('connect', onConnect);
    });
  }
}
