// BgpListener: one listening TCP socket for all sessions. An accepted connection goes to the
// session configured for its remote address; any other is reset at once (RFC 4271 §8: only
// configured peers may connect).

import net from 'node:net';
import { Subject } from 'rxjs';
import { formatIpv6, parseIpv6 } from '../wire/index.js';
import { NodeTcpConnection, normalizeAddress } from './tcp.js';
import type { Connection } from './types.js';

/** What the listener hands connections to (Session implements it). */
export interface IncomingConnectionTarget {
  /** The peer's address as configured. */
  readonly peerAddress: string;
  /** Takes ownership of an accepted connection from `peerAddress` (it may close it at once). */
  acceptIncoming(connection: Connection): void;
}

export interface RejectedConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly reason: string;
}

export class ListenerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenerError';
  }
}

/** Canonical text of an IP address (IPv4 dotted quad, IPv6 compressed lower case), for matching. */
export function canonicalAddress(address: string): string {
  const a = normalizeAddress(address);
  if (a.includes(':')) {
    try {
      return formatIpv6(parseIpv6(a));
    } catch {
      return a.toLowerCase();
    }
  }
  return a;
}

export interface BgpListenerOptions {
  /** Address to listen on (default '::', all addresses, dual stack). */
  readonly address?: string;
  /** Port (default 179; 0 picks a free one, see `port` after listen()). */
  readonly port?: number;
}

export class BgpListener {
  readonly #server: net.Server;
  readonly #targets = new Map<string, IncomingConnectionTarget>();
  readonly #opts: BgpListenerOptions;
  /** Connections refused because no session is configured for their remote address. */
  readonly rejected$ = new Subject<RejectedConnection>();
  #address: { address: string; port: number } | undefined;

  constructor(options: BgpListenerOptions = {}) {
    this.#opts = options;
    this.#server = net.createServer({ noDelay: true }, (socket) => this.#onConnection(socket));
  }

  /** Starts listening; resolves with the bound address and port. */
  listen(): Promise<{ address: string; port: number }> {
    const host = this.#opts.address ?? '::';
    const port = this.#opts.port ?? 179;
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) =>
        reject(
          new ListenerError(
            `cannot listen for BGP on [${host}]:${port}: ${err.message}` +
              (err.code === 'EACCES' ? ' (port 179 needs root or CAP_NET_BIND_SERVICE)' : '') +
              (err.code === 'EADDRINUSE' ? ' (another BGP daemon is running? stop it or pick another port)' : ''),
          ),
        );
      this.#server.once('error', onError);
      this.#server.listen({ host, port }, () => {
        this.#server.off('error', onError);
        const a = this.#server.address() as net.AddressInfo;
        this.#address = { address: a.address, port: a.port };
        resolve(this.#address);
      });
    });
  }

  /** The bound address (after listen()). */
  get port(): number {
    if (!this.#address) throw new ListenerError('BgpListener.port read before listen() resolved');
    return this.#address.port;
  }

  /** Routes connections from `target.peerAddress` to it. Returns a function that removes it. */
  add(target: IncomingConnectionTarget): () => void {
    const key = canonicalAddress(target.peerAddress);
    const existing = this.#targets.get(key);
    if (existing !== undefined && existing !== target)
      throw new ListenerError(`a session for peer ${target.peerAddress} is already registered with this listener`);
    this.#targets.set(key, target);
    return () => this.remove(target);
  }

  remove(target: IncomingConnectionTarget): void {
    const key = canonicalAddress(target.peerAddress);
    if (this.#targets.get(key) === target) this.#targets.delete(key);
  }

  #onConnection(socket: net.Socket): void {
    const remoteAddress = canonicalAddress(socket.remoteAddress ?? '');
    const target = this.#targets.get(remoteAddress);
    if (target === undefined) {
      const remotePort = socket.remotePort ?? 0;
      socket.on('error', () => {});
      socket.resetAndDestroy();
      this.rejected$.next({ remoteAddress, remotePort, reason: 'not a configured neighbor' });
      return;
    }
    target.acceptIncoming(new NodeTcpConnection(socket));
  }

  /** Stops listening (established connections stay with their sessions). */
  close(): Promise<void> {
    this.rejected$.complete();
    return new Promise((resolve) => {
      if (!this.#server.listening) resolve();
      else this.#server.close(() => resolve());
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
