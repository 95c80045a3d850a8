// In-memory connections and connector for tests: a pair of connected duplex byte streams, delivery
// on the microtask queue (never re-entrant), optional back-pressure (a paused reader fills the
// writer's buffer past its high-water mark).

import type { Connection, ConnectionHandlers, ConnectOptions, Connector, ConnectorFeatures } from './types.js';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export class MemoryConnection implements Connection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Bytes written by this side, in write order (for assertions). */
  readonly written: Uint8Array[] = [];
  peer!: MemoryConnection;
  #handlers: ConnectionHandlers | undefined;
  #inbox: Uint8Array[] = [];
  #closed = false;
  #closeError: Error | undefined;
  #closeDelivered = false;
  #paused = false;
  #highWaterMark: number;
  /** Bytes written by this side that the other side has not read yet. */
  #inFlight = 0;
  #drainWaiters: (() => void)[] = [];

  constructor(local: Endpoint, remote: Endpoint, highWaterMark = 16384) {
    this.localAddress = local.address;
    this.localPort = local.port;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
    this.#highWaterMark = highWaterMark;
  }

  get closed(): boolean {
    return this.#closed;
  }

  attach(handlers: ConnectionHandlers): void {
    if (this.#handlers) throw new Error('MemoryConnection.attach called twice');
    this.#handlers = handlers;
    this.#schedule();
  }

  write(chunk: Uint8Array): boolean {
    if (this.#closed) return false;
    const copy = chunk.slice();
    this.written.push(copy);
    this.#inFlight += copy.length;
    this.peer.#receive(copy);
    return this.#inFlight < this.#highWaterMark;
  }

  drain(): Promise<void> {
    if (this.#closed || this.#inFlight < this.#highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  end(): void {
    this.#closeBoth(undefined);
  }

  destroy(): void {
    this.#closeBoth(undefined);
  }

  /** Simulates a reset from the network (both sides see close with this error). */
  fail(error: Error): void {
    this.#closeBoth(error);
  }

  /** Stops reading: the other side's writes accumulate and its write() returns false past the mark. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#schedule();
  }

  #closeBoth(error: Error | undefined): void {
    for (const c of [this, this.peer]) {
      if (c.#closed) continue;
      c.#closed = true;
      c.#closeError = error;
      c.#schedule();
      for (const w of c.#drainWaiters.splice(0)) w();
    }
  }

  #receive(chunk: Uint8Array): void {
    this.#inbox.push(chunk);
    this.#schedule();
  }

  #scheduled = false;
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    const h = this.#handlers;
    if (h === undefined) return;
    while (!this.#paused && this.#inbox.length > 0 && !this.#closeDelivered) {
      const chunk = this.#inbox.shift()!;
      this.peer.#consumed(chunk.length);
      h.data(chunk);
    }
    if (this.#closed && !this.#closeDelivered && (this.#inbox.length === 0 || this.#closeError !== undefined)) {
      this.#closeDelivered = true;
      h.close(this.#closeError);
    }
  }

  #consumed(n: number): void {
    this.#inFlight -= n;
    if (this.#inFlight < this.#highWaterMark) for (const w of this.#drainWaiters.splice(0)) w();
  }
}

/** Two connected ends: `a` is at `aEnd` talking to `bEnd`, and the other way round. */
export function memoryConnectionPair(
  aEnd: Endpoint,
  bEnd: Endpoint,
  highWaterMark?: number,
): [MemoryConnection, MemoryConnection] {
  const a = new MemoryConnection(aEnd, bEnd, highWaterMark);
  const b = new MemoryConnection(bEnd, aEnd, highWaterMark);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export interface PendingConnect {
  readonly options: ConnectOptions;
  readonly signal: AbortSignal;
  /** Completes the attempt: returns the far end, for the test to play the peer on. */
  accept(highWaterMark?: number): MemoryConnection;
  /** Fails the attempt (e.g. connection refused). */
  refuse(message?: string): void;
}

/** A connector whose attempts the test completes or fails by hand. */
export class MemoryConnector implements Connector {
  readonly features: ConnectorFeatures = { ttl: true, minTtl: true, md5: false };
  readonly attempts: PendingConnect[] = [];
  readonly #local: Endpoint;

  constructor(local: Endpoint = { address: '127.0.0.1', port: 40000 }) {
    this.#local = local;
  }

  /** The latest attempt still waiting. */
  get pending(): PendingConnect | undefined {
    return this.attempts.at(-1);
  }

  connect(options: ConnectOptions, signal: AbortSignal): Promise<Connection> {
    return new Promise((resolve, reject) => {
      let done = false;
      const local = {
        address: options.localAddress ?? this.#local.address,
        port: this.#local.port + this.attempts.length,
      };
      const attempt: PendingConnect = {
        options,
        signal,
        accept: (hwm) => {
          if (done) throw new Error('connect attempt already finished');
          done = true;
          const [mine, theirs] = memoryConnectionPair(
            local,
            { address: options.remoteAddress, port: options.remotePort },
            hwm,
          );
          resolve(mine);
          return theirs;
        },
        refuse: (message = 'connect ECONNREFUSED') => {
          if (done) return;
          done = true;
          reject(new Error(message));
        },
      };
      signal.addEventListener('abort', () => attempt.refuse('connect aborted'), { once: true });
      this.attempts.push(attempt);
    });
  }
}
