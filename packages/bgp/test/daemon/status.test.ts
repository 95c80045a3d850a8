import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  formatNeighbors,
  formatRoutes,
  type NeighborStatus,
  queryStatus,
  type RouteStatus,
  type StatusProvider,
  StatusSocketError,
  serveStatus,
} from '../../src/daemon/status.js';

const NEIGHBOR: NeighborStatus = {
  address: '192.0.2.1',
  asn: 65001,
  state: 'Established',
  uptimeSeconds: 3725,
  establishedAt: '2024-01-01T00:00:00.000Z',
  routerId: '192.0.2.1',
  holdTime: 90,
  families: ['ipv4-unicast'],
  prefixes: { received: 10, accepted: 8, advertised: 3 },
  lastError: null,
  restarting: false,
};
const ROUTE: RouteStatus = {
  prefix: '10.0.0.0/24',
  family: 'ipv4-unicast',
  paths: [
    {
      from: '192.0.2.1',
      nextHop: '192.0.2.1',
      asPath: '65001 4200000001',
      origin: 'igp',
      med: 5,
      localPref: 100,
      communities: ['65001:1'],
      largeCommunities: ['65001:1:2'],
      best: true,
      stale: false,
    },
  ],
};

const provider: StatusProvider = {
  summary: () => ({ routerId: '192.0.2.2', asn: 65002, version: 1, uptimeSeconds: 1, routes: 1 }),
  neighbors: () => [NEIGHBOR],
  routes: (f) => (f.family === 'ipv6-unicast' ? [] : [ROUTE]),
};

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('status socket', () => {
  it('answers neighbors, routes (with a family filter) and summary', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tortie-status-'));
    const path = join(dir, 'sub', 'bgpd.sock');
    const server = await serveStatus(path, provider);
    try {
      expect(await queryStatus(path, { method: 'neighbors' })).toEqual([NEIGHBOR]);
      expect(await queryStatus(path, { method: 'routes' })).toEqual([ROUTE]);
      expect(await queryStatus(path, { method: 'routes', family: 'ipv6-unicast' })).toEqual([]);
      expect(await queryStatus(path, { method: 'summary' })).toMatchObject({ asn: 65002 });
      await expect(queryStatus(path, { method: 'nope' } as never)).rejects.toThrow(/unknown method "nope"/);
    } finally {
      await server.close();
    }
    await expect(queryStatus(path, { method: 'summary' })).rejects.toBeInstanceOf(StatusSocketError);
  });

  it('answers several pipelined lines on one connection in order, and bad JSON with an error', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tortie-status-'));
    const path = join(dir, 'bgpd.sock');
    const server = await serveStatus(path, provider);
    try {
      const lines = await new Promise<string[]>((resolve, reject) => {
        const s = createConnection(path);
        let buf = '';
        s.setEncoding('utf8');
        s.on('error', reject);
        s.on('data', (d: string) => {
          buf += d;
          const got = buf.split('\n').filter(Boolean);
          if (got.length === 3) {
            s.end();
            resolve(got);
          }
        });
        s.write('{"id":1,"method":"summary"}\nnot json\n{"id":"x","meth');
        setTimeout(() => s.write('od":"neighbors"}\n'), 20);
      });
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(parsed[0]).toMatchObject({ id: 1, ok: true });
      expect(parsed[1]).toEqual({ ok: false, error: 'request is not valid JSON' });
      expect(parsed[2]).toMatchObject({ id: 'x', ok: true, result: [NEIGHBOR] });
    } finally {
      await server.close();
    }
  });

  it('formats tables for people', () => {
    const n = formatNeighbors([NEIGHBOR]).split('\n');
    expect(n[0]).toMatch(/^NEIGHBOR\s+AS\s+STATE\s+UPTIME\s+RECEIVED\s+ACCEPTED\s+ADVERTISED/);
    expect(n[1]).toMatch(/^192\.0\.2\.1\s+65001\s+Established\s+01:02:05\s+10\s+8\s+3/);
    const r = formatRoutes([ROUTE]).split('\n');
    expect(r[1]).toMatch(
      /^\*> 10\.0\.0\.0\/24\s+192\.0\.2\.1\s+192\.0\.2\.1\s+5\s+100\s+65001 4200000001 i\s+65001:1 65001:1:2$/,
    );
  });
});
