// What the session shell needs from the outside world: a clock and byte-stream connections.
// Both are injected so tests drive every transition without waiting and without sockets.

/** Opaque timer handle. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

export interface Clock {
  /** Milliseconds (monotonic is best; only differences are used). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface ConnectionHandlers {
  /** Bytes received, in order. */
  data(chunk: Uint8Array): void;
  /** The connection is gone (peer closed, reset, or destroy()); called once. */
  close(error: Error | undefined): void;
}

/** One TCP connection (or anything that behaves as a duplex byte stream). */
export interface Connection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Starts delivery to `handlers`; bytes that arrived before are delivered first. Call once. */
  attach(handlers: ConnectionHandlers): void;
  /** Queues bytes. false: the send buffer is above its high-water mark, wait for drain() before more. */
  write(chunk: Uint8Array): boolean;
  /** Resolves once the send buffer is below its high-water mark again, or the connection closed. */
  drain(): Promise<void>;
  /** Flushes what was written, then closes (used after a NOTIFICATION). */
  end(): void;
  /** Closes at once, dropping unsent bytes. */
  destroy(): void;
}

export interface ConnectOptions {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress?: string;
  /** IP TTL / IPv6 hop limit for sent packets (1 for single-hop eBGP, 255 with GTSM). */
  readonly ttl?: number;
  /** GTSM (RFC 5082): drop received packets with a TTL below this (IP_MINTTL / IPV6_MINHOPCOUNT). */
  readonly minTtl?: number;
}

/** What a connector can do to the socket beyond connecting. */
export interface ConnectorFeatures {
  /** Can set the TTL / hop limit of sent packets (IP_TTL, IPV6_UNICAST_HOPS). */
  readonly ttl: boolean;
  /** Can enforce a minimum received TTL (IP_MINTTL, IPV6_MINHOPCOUNT). */
  readonly minTtl: boolean;
  /** Can sign segments with TCP-MD5 (RFC 2385, TCP_MD5SIG). */
  readonly md5: boolean;
}

/**
 * Opens outgoing connections. The default is node:net (NodeTcpConnector); a connector with TTL,
 * GTSM and TCP-MD5 support (a native addon doing setsockopt before connect) plugs in here.
 */
export interface Connector {
  readonly features: ConnectorFeatures;
  /** Rejects on failure; the abort signal cancels a pending attempt (the promise then rejects). */
  connect(options: ConnectOptions, signal: AbortSignal): Promise<Connection>;
}
