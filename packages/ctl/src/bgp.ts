// `tortiectl bgp peers|routes`: the tortie-bgpd status socket (a unix stream socket speaking JSON
// lines, protocol version 1, documented in packages/bgp/README.md). Only the documented fields are
// read; fields are only ever added, so unknown ones are ignored.
import { createConnection } from 'node:net';
import { table } from './table.js';

export class StatusSocketError extends Error {
  override readonly name = 'StatusSocketError';
}

export interface NeighborStatus {
  readonly address: string;
  readonly asn: number;
  readonly description?: string;
  readonly state: string;
  readonly uptimeSeconds: number | null;
  readonly establishedAt?: string | null;
  readonly routerId?: string;
  readonly holdTime?: number;
  readonly families?: readonly string[];
  readonly prefixes?: { readonly received: number; readonly accepted: number; readonly advertised: number };
  readonly lastError?: string | null;
  readonly restarting?: boolean;
}

export interface RoutePath {
  readonly from: string;
  readonly nextHop: string;
  readonly asPath: string;
  readonly origin: string;
  readonly med?: number | null;
  readonly localPref?: number | null;
  readonly communities?: readonly string[];
  readonly largeCommunities?: readonly string[];
  readonly best: boolean;
  readonly stale?: boolean;
}

export interface RouteStatus {
  readonly prefix: string;
  readonly family: string;
  readonly paths: readonly RoutePath[];
}

export interface RoutesQuery {
  readonly family?: string;
  readonly prefix?: string;
  readonly limit?: number;
}

/** One request, one response line. Errors name the socket and what to check. */
export function statusRequest(socket: string, request: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    let buf = '';
    let done = false;
    const finish = (e: Error | undefined, v?: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      conn.destroy();
      if (e) reject(e);
      else resolve(v);
    };
    const timer = setTimeout(
      () => finish(new StatusSocketError(`status socket ${socket}: no answer within ${timeoutMs / 1000}s`)),
      timeoutMs,
    );
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify({ id: 1, ...request })}\n`));
    conn.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let msg: { ok?: unknown; result?: unknown; error?: unknown };
      try {
        msg = JSON.parse(buf.slice(0, nl)) as typeof msg;
      } catch {
        finish(new StatusSocketError(`status socket ${socket}: answer is not JSON: ${buf.slice(0, 200)}`));
        return;
      }
      if (msg.ok === true) finish(undefined, msg.result);
      else finish(new StatusSocketError(`status socket ${socket}: ${String(msg.error ?? 'request refused')}`));
    });
    conn.on('error', (e: NodeJS.ErrnoException) =>
      finish(
        new StatusSocketError(
          `cannot reach status socket ${socket}: ${e.code ?? e.message} (is tortie-bgpd running, and is --socket its statusSocket?)`,
        ),
      ),
    );
    conn.on('end', () => finish(new StatusSocketError(`status socket ${socket}: closed without an answer`)));
  });
}

export async function bgpPeers(socket: string): Promise<NeighborStatus[]> {
  const r = await statusRequest(socket, { method: 'neighbors' });
  if (!Array.isArray(r)) throw new StatusSocketError(`status socket ${socket}: neighbors answer is not a list`);
  return r as NeighborStatus[];
}

export async function bgpRoutes(socket: string, q: RoutesQuery): Promise<RouteStatus[]> {
  const r = await statusRequest(socket, { method: 'routes', ...q });
  if (!Array.isArray(r)) throw new StatusSocketError(`status socket ${socket}: routes answer is not a list`);
  return r as RouteStatus[];
}

const duration = (s: number | null): string => {
  if (s === null) return '-';
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${sec}s` : `${sec}s`;
};

export function formatPeers(peers: readonly NeighborStatus[]): string {
  if (peers.length === 0) return 'no BGP peers\n';
  return `${table(
    ['PEER', 'ASN', 'STATE', 'UPTIME', 'RECEIVED', 'ACCEPTED', 'ADVERTISED', 'INFO'],
    peers.map((p) => [
      p.description ? `${p.address} (${p.description})` : p.address,
      String(p.asn),
      p.restarting ? `${p.state} (restarting)` : p.state,
      duration(p.uptimeSeconds),
      String(p.prefixes?.received ?? '-'),
      String(p.prefixes?.accepted ?? '-'),
      String(p.prefixes?.advertised ?? '-'),
      p.lastError ?? '',
    ]),
  )}\n`;
}

export function formatRoutes(routes: readonly RouteStatus[]): string {
  if (routes.length === 0) return 'no routes\n';
  const rows = routes.flatMap((r) =>
    r.paths.map((p, i) => [
      i === 0 ? r.prefix : '',
      `${p.best ? '*' : ' '}${p.stale ? 's' : ' '}`,
      p.nextHop,
      p.from,
      p.asPath === '' ? '(local)' : p.asPath,
      p.origin,
      p.localPref === undefined || p.localPref === null ? '' : String(p.localPref),
      p.med === undefined || p.med === null ? '' : String(p.med),
      [...(p.communities ?? []), ...(p.largeCommunities ?? [])].join(' '),
    ]),
  );
  return `${table(['PREFIX', 'BEST', 'NEXT HOP', 'FROM', 'AS PATH', 'ORIGIN', 'LOCAL PREF', 'MED', 'COMMUNITIES'], rows)}\n`;
}
