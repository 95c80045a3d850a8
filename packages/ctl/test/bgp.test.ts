// tortiectl bgp peers|routes against a fake tortie-bgpd status socket speaking the documented
// JSON-lines protocol (packages/bgp/README.md, "Status socket protocol").
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NeighborStatus, RouteStatus } from '../src/index.js';
import { ctl } from './helpers.js';

const NEIGHBORS: NeighborStatus[] = [
  {
    address: '192.0.2.1',
    asn: 64512,
    description: 'tor-a',
    state: 'Established',
    uptimeSeconds: 3725,
    establishedAt: '2026-11-21T07:00:00.000Z',
    routerId: '192.0.2.1',
    holdTime: 90,
    families: ['ipv4-unicast'],
    prefixes: { received: 12, accepted: 10, advertised: 3 },
    lastError: null,
    restarting: false,
  },
  {
    address: '192.0.2.2',
    asn: 65001,
    state: 'Active',
    uptimeSeconds: null,
    establishedAt: null,
    routerId: '0.0.0.0',
    holdTime: 0,
    families: ['ipv4-unicast'],
    prefixes: { received: 0, accepted: 0, advertised: 0 },
    lastError: 'connection refused',
    restarting: false,
  },
];
const ROUTES: RouteStatus[] = [
  {
    prefix: '10.244.3.0/26',
    family: 'ipv4-unicast',
    paths: [
      {
        from: '192.0.2.1',
        nextHop: '192.0.2.1',
        asPath: '65001 65002',
        origin: 'igp',
        med: 0,
        localPref: 100,
        communities: ['65000:1'],
        largeCommunities: [],
        best: true,
        stale: false,
      },
      {
        from: '192.0.2.2',
        nextHop: '192.0.2.2',
        asPath: '65003',
        origin: 'incomplete',
        med: null,
        localPref: 100,
        communities: [],
        largeCommunities: [],
        best: false,
        stale: true,
      },
    ],
  },
  {
    prefix: '10.244.7.0/26',
    family: 'ipv4-unicast',
    paths: [
      {
        from: 'local',
        nextHop: '0.0.0.0',
        asPath: '',
        origin: 'igp',
        med: null,
        localPref: 100,
        communities: [],
        largeCommunities: [],
        best: true,
        stale: false,
      },
    ],
  },
];

let dir: string;
let socket: string;
let server: Server;
const requests: Record<string, unknown>[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tortiectl-'));
  socket = join(dir, 'bgpd.sock');
  server = createServer((c) => {
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let req: Record<string, unknown>;
        try {
          req = JSON.parse(line) as Record<string, unknown>;
        } catch {
          c.write(`${JSON.stringify({ id: null, ok: false, error: 'bad JSON' })}\n`);
          continue;
        }
        requests.push(req);
        const id = req.id ?? null;
        let answer: object;
        if (req.method === 'neighbors') answer = { id, ok: true, result: NEIGHBORS };
        else if (req.method === 'routes') {
          if (req.family !== undefined && req.family !== 'ipv4-unicast' && req.family !== 'ipv6-unicast')
            answer = { id, ok: false, error: `bad family ${String(req.family)}` };
          else {
            let r = ROUTES.filter((x) => req.family === undefined || x.family === req.family);
            if (typeof req.prefix === 'string') r = r.filter((x) => x.prefix === req.prefix);
            if (typeof req.limit === 'number') r = r.slice(0, req.limit);
            answer = { id, ok: true, result: r };
          }
        } else answer = { id, ok: false, error: `unknown method ${String(req.method)}` };
        c.write(`${JSON.stringify(answer)}\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(socket, () => r()));
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('tortiectl bgp (status socket)', () => {
  it('peers: table and JSON', async () => {
    const t = await ctl('bgp', 'peers', '--socket', socket);
    expect(t.code).toBe(0);
    expect(requests.at(-1)).toEqual({ id: 1, method: 'neighbors' });
    const lines = t.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.trim().split(/\s{2,}/));
    expect(lines).toEqual([
      ['PEER', 'ASN', 'STATE', 'UPTIME', 'RECEIVED', 'ACCEPTED', 'ADVERTISED', 'INFO'],
      ['192.0.2.1 (tor-a)', '64512', 'Established', '1h2m', '12', '10', '3'],
      ['192.0.2.2', '65001', 'Active', '-', '0', '0', '0', 'connection refused'],
    ]);
    const j = await ctl('bgp', 'peers', '--socket', socket, '-o', 'json');
    expect(JSON.parse(j.stdout)).toEqual(NEIGHBORS);
  });

  it('routes: every path, best first, filters passed to the daemon', async () => {
    const t = await ctl('bgp', 'routes', '--socket', socket);
    expect(t.code).toBe(0);
    const lines = t.stdout.trimEnd().split('\n');
    expect(lines[0]?.split(/\s{2,}/)).toEqual([
      'PREFIX',
      'BEST',
      'NEXT HOP',
      'FROM',
      'AS PATH',
      'ORIGIN',
      'LOCAL PREF',
      'MED',
      'COMMUNITIES',
    ]);
    expect(lines[1]).toMatch(
      /^10\.244\.3\.0\/26\s+\*\s+192\.0\.2\.1\s+192\.0\.2\.1\s+65001 65002\s+igp\s+100\s+0\s+65000:1$/,
    );
    expect(lines[2]).toMatch(/^\s+s\s+192\.0\.2\.2\s+192\.0\.2\.2\s+65003\s+incomplete\s+100$/);
    expect(lines[3]).toMatch(/^10\.244\.7\.0\/26\s+\*\s+0\.0\.0\.0\s+local\s+\(local\)\s+igp\s+100$/);

    const j = await ctl(
      'bgp',
      'routes',
      '--socket',
      socket,
      '--family',
      'ipv4-unicast',
      '--prefix',
      '10.244.7.0/26',
      '--limit',
      '5',
      '-o',
      'json',
    );
    expect(j.code).toBe(0);
    expect(requests.at(-1)).toEqual({
      id: 1,
      method: 'routes',
      family: 'ipv4-unicast',
      prefix: '10.244.7.0/26',
      limit: 5,
    });
    expect(JSON.parse(j.stdout)).toEqual([ROUTES[1]]);
  });

  it('errors: bad arguments exit 2 naming them; socket and daemon errors exit 1', async () => {
    for (const [argv, says] of [
      [
        ['bgp', 'routes', '--socket', socket, '--family', 'ipv5'],
        '--family: "ipv5" is not one of ipv4-unicast, ipv6-unicast',
      ],
      [['bgp', 'routes', '--socket', socket, '--limit', '0'], '--limit: "0" is not a positive integer'],
      [['bgp', 'routes', '--socket', socket, '--prefix', 'ten'], '--prefix: "ten" is not a prefix'],
      [['bgp', 'peers', '--socket'], '--socket: needs a value'],
      [['bgp', 'peers', '-o', 'wide', '--socket', socket], '-o/--output: "wide" is not one of table, json'],
      [['bgp', 'neighbours'], 'neighbours: unknown bgp command'],
    ] as const) {
      const r = await ctl(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toContain(`tortiectl: ${says}`);
    }
    const missing = await ctl('bgp', 'peers', '--socket', join(dir, 'nope.sock'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`cannot reach status socket ${join(dir, 'nope.sock')}: ENOENT`);
  });

  it('the built tortiectl (bin shim) runs and exits 2 on a bad argument', async () => {
    const bin = join(dirname(fileURLToPath(import.meta.url)), '../bin/tortiectl.js');
    expect(existsSync(join(dirname(bin), '../dist/cli.js')), 'run `pnpm build` first').toBe(true);
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        p.stdout.on('data', (d: Buffer) => {
          out += d.toString();
        });
        p.stderr.on('data', (d: Buffer) => {
          out += d.toString();
        });
        p.on('exit', (code) => resolve({ code, out }));
      });
    const bad = await run(['bgp', 'peers', '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('tortiectl: --bogus: unknown flag');
    const ok = await run(['bgp', 'peers', '--socket', socket, '-o', 'json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toEqual(NEIGHBORS);
  });
});
