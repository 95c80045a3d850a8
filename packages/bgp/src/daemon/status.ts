// The status socket: a unix stream socket speaking JSON lines. Each request is one JSON object on
// one line; each gets exactly one JSON line back, in order. Documented in the package README
// ("Status socket protocol"); tortiectl reads it, so change it only compatibly.
import { existsSync, unlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';

export const STATUS_PROTOCOL_VERSION = 1;

export interface PrefixCounts {
  /** Prefixes in the neighbor's Adj-RIB-In (before import policy). */
  readonly received: number;
  /** Of those, accepted by import policy. */
  readonly accepted: number;
  /** Prefixes currently advertised to the neighbor. */
  readonly advertised: number;
}

export interface NeighborStatus {
  readonly address: string;
  readonly asn: number;
  readonly description?: string;
  /** RFC 4271 state name: Idle, Connect, Active, OpenSent, OpenConfirm, Established. */
  readonly state: string;
  /** Seconds in the Established state, or null when not established. */
  readonly uptimeSeconds: number | null;
  /** ISO time the session last became Established, or null. */
  readonly establishedAt: string | null;
  /** The neighbor's BGP identifier once known. */
  readonly routerId: string | null;
  readonly holdTime: number | null;
  readonly families: readonly string[];
  readonly prefixes: PrefixCounts;
  /** The last error or NOTIFICATION, in words. */
  readonly lastError: string | null;
  /** Graceful restart: true while this neighbor's routes are kept as stale. */
  readonly restarting: boolean;
}

export interface PathStatus {
  /** The neighbor it came from, or "local" for our own advertisements. */
  readonly from: string;
  readonly nextHop: string;
  readonly asPath: string;
  readonly origin: 'igp' | 'egp' | 'incomplete';
  readonly med: number | null;
  readonly localPref: number | null;
  readonly communities: readonly string[];
  readonly largeCommunities: readonly string[];
  readonly best: boolean;
  readonly stale: boolean;
}

export interface RouteStatus {
  readonly prefix: string;
  readonly family: string;
  readonly paths: readonly PathStatus[];
}

export interface SpeakerSummary {
  readonly routerId: string;
  readonly asn: number;
  readonly version: number;
  readonly uptimeSeconds: number;
  readonly routes: number;
}

export type StatusRequest =
  | { readonly id?: unknown; readonly method: 'summary' }
  | { readonly id?: unknown; readonly method: 'neighbors' }
  | {
      readonly id?: unknown;
      readonly method: 'routes';
      readonly family?: string;
      readonly prefix?: string;
      /** At most this many prefixes (a full table is large: ask for what you need). */
      readonly limit?: number;
    };

export type StatusResponse =
  | { readonly id?: unknown; readonly ok: true; readonly result: unknown }
  | { readonly id?: unknown; readonly ok: false; readonly error: string };

/** What the status server asks of the daemon. */
export interface StatusProvider {
  summary(): SpeakerSummary;
  neighbors(): readonly NeighborStatus[];
  routes(filter: { family?: string; prefix?: string; limit?: number }): readonly RouteStatus[];
}

export class StatusSocketError extends Error {
  override readonly name = 'StatusSocketError';
}

const MAX_REQUEST = 64 * 1024;

/** Serves the status protocol on `path` until closed. An existing socket file is replaced. */
export async function serveStatus(path: string, provider: StatusProvider): Promise<StatusServer> {
  await mkdir(dirname(path), { recursive: true });
  if (existsSync(path)) unlinkSync(path);
  const server = createServer((sock) => handle(sock, provider));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new StatusServer(server, path);
}

export class StatusServer {
  readonly #server: Server;
  readonly path: string;
  constructor(server: Server, path: string) {
    this.#server = server;
    this.path = path;
  }
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

function handle(sock: Socket, provider: StatusProvider): void {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('error', () => sock.destroy());
  sock.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > MAX_REQUEST && !buf.includes('\n')) {
      sock.end(`${JSON.stringify({ ok: false, error: 'request line too long' })}\n`);
      return;
    }
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line !== '') sock.write(`${JSON.stringify(answer(line, provider))}\n`);
      nl = buf.indexOf('\n');
    }
  });
}

function answer(line: string, provider: StatusProvider): StatusResponse {
  let req: unknown;
  try {
    req = JSON.parse(line);
  } catch {
    return { ok: false, error: 'request is not valid JSON' };
  }
  if (typeof req !== 'object' || req === null) return { ok: false, error: 'request must be a JSON object' };
  const r = req as Record<string, unknown>;
  const id = r.id === undefined ? {} : { id: r.id };
  try {
    switch (r.method) {
      case 'summary':
        return { ...id, ok: true, result: provider.summary() };
      case 'neighbors':
        return { ...id, ok: true, result: provider.neighbors() };
      case 'routes': {
        const filter: { family?: string; prefix?: string; limit?: number } = {};
        if (typeof r.limit === 'number' && Number.isInteger(r.limit) && r.limit > 0) filter.limit = r.limit;
        if (typeof r.family === 'string') filter.family = r.family;
        if (typeof r.prefix === 'string') filter.prefix = r.prefix;
        return { ...id, ok: true, result: provider.routes(filter) };
      }
      default:
        return {
          ...id,
          ok: false,
          error: `unknown method ${JSON.stringify(r.method)}: use summary, neighbors or routes`,
        };
    }
  } catch (e) {
    return { ...id, ok: false, error: (e as Error).message };
  }
}

/** Sends one request and returns its result; throws {@link StatusSocketError} on any failure. */
export function queryStatus(path: string, request: StatusRequest, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new StatusSocketError(`no answer from status socket ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(
        new StatusSocketError(
          `cannot reach status socket ${path}: ${e.message} (is tortie-bgpd running with statusSocket set?)`,
        ),
      );
    });
    sock.on('connect', () => sock.write(`${JSON.stringify(request)}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      let res: StatusResponse;
      try {
        res = JSON.parse(buf.slice(0, nl)) as StatusResponse;
      } catch {
        reject(new StatusSocketError(`status socket ${path} sent something that is not JSON`));
        return;
      }
      if (res.ok) resolve(res.result);
      else reject(new StatusSocketError(`status socket ${path}: ${res.error}`));
    });
  });
}

// ---- human-readable output ----

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return d > 0 ? `${d}d${pad(h)}h${pad(m)}m` : `${pad(h)}:${pad(m)}:${pad(s % 60)}`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatNeighbors(neighbors: readonly NeighborStatus[]): string {
  return table(
    ['NEIGHBOR', 'AS', 'STATE', 'UPTIME', 'RECEIVED', 'ACCEPTED', 'ADVERTISED', 'INFO'],
    neighbors.map((n) => [
      n.address,
      String(n.asn),
      n.state + (n.restarting ? ' (restarting)' : ''),
      formatDuration(n.uptimeSeconds),
      String(n.prefixes.received),
      String(n.prefixes.accepted),
      String(n.prefixes.advertised),
      n.lastError ?? n.description ?? '',
    ]),
  );
}

export function formatRoutes(routes: readonly RouteStatus[]): string {
  const rows: string[][] = [];
  for (const r of routes) {
    for (const p of r.paths) {
      rows.push([
        (p.best ? '*> ' : '*  ') + r.prefix,
        p.nextHop,
        p.from,
        p.med === null ? '' : String(p.med),
        p.localPref === null ? '' : String(p.localPref),
        `${p.asPath === '' ? '' : `${p.asPath} `}${p.origin === 'igp' ? 'i' : p.origin === 'egp' ? 'e' : '?'}`,
        [...p.communities, ...p.largeCommunities].join(' ') + (p.stale ? ' (stale)' : ''),
      ]);
    }
  }
  return table(['PREFIX', 'NEXT HOP', 'FROM', 'MED', 'LOCPRF', 'PATH', 'COMMUNITIES'], rows);
}
