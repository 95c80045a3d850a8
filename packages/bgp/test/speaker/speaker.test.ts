// The Speaker's library face, two speakers over in-memory connections: desired state in,
// streams and snapshots out.
import { afterEach, describe, expect, it } from 'vitest';
import type { BestRouteChange, PeerConfig, PeerStateChange } from '../../src/index.js';
import { Speaker } from '../../src/index.js';
import { MemoryConnector } from '../../src/transport/index.js';

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const A = { address: '10.0.0.1', asn: 65001 };
const B = { address: '10.0.0.2', asn: 65002 };

interface Pair {
  a: Speaker;
  b: Speaker;
  connector: MemoryConnector;
  bChanges: BestRouteChange[];
  bStates: PeerStateChange[];
  /** Connections made from a to b so far. */
  connections: number;
  /** b's ends of them. */
  farEnds: { destroy(): void }[];
}

let pairs: Pair[] = [];
afterEach(async () => {
  for (const p of pairs) {
    await p.a.stop();
    await p.b.stop();
  }
  pairs = [];
});

async function pair(
  bPeer: Partial<PeerConfig> = {},
  aPeer: Partial<PeerConfig> = {},
  aOptions: Partial<ConstructorParameters<typeof Speaker>[0]> = {},
  aExtraPeers: PeerConfig[] = [],
  aLogs: string[] = [],
): Promise<Pair> {
  const connector = new MemoryConnector({ address: A.address, port: 40000 });
  const a = new Speaker({
    asn: A.asn,
    routerId: A.address,
    listen: false,
    connector,
    log: (_l, m) => aLogs.push(m),
    ...aOptions,
  });
  await a.start();
  const b = new Speaker({ asn: B.asn, routerId: B.address, listen: false });
  const p: Pair = { a, b, connector, bChanges: [], bStates: [], connections: 0, farEnds: [] };
  pairs.push(p);
  b.bestRoutes$.subscribe((c) => p.bChanges.push(...c));
  b.peerStates$.subscribe((s) => p.bStates.push(s));
  // a connects; b accepts what a's connector opens
  const seen = new Set<unknown>();
  const pump = setInterval(() => {
    for (const att of connector.attempts) {
      if (seen.has(att)) continue;
      seen.add(att);
      p.connections++;
      const far = att.accept();
      p.farEnds.push(far);
      b.acceptIncoming(far);
    }
  }, 2);
  const stop = b.stop.bind(b);
  b.stop = async (m?: string) => {
    clearInterval(pump);
    await stop(m);
  };
  b.setPeers([{ address: A.address, asn: A.asn, passive: true, families: ['ipv4-unicast', 'ipv6-unicast'], ...bPeer }]);
  a.setPeers([
    { address: B.address, asn: B.asn, connectRetryTime: 1, families: ['ipv4-unicast', 'ipv6-unicast'], ...aPeer },
    ...aExtraPeers,
  ]);
  await until('both Established', () =>
    a.peers().find((x) => x.address === B.address)?.state === 'Established' && b.peers()[0]?.state === 'Established'
      ? true
      : undefined,
  );
  return p;
}

const best = (s: Speaker, prefix: string) => s.routes({ prefix })[0]?.paths.find((x) => x.best);

describe('Speaker', () => {
  it('advertises desired routes, diffs changes and streams best-route changes', async () => {
    const p = await pair();
    expect(p.bStates.map((s) => s.to)).toContain('Established');
    p.a.setAdvertised([
      { prefix: '10.244.1.0/26', communities: ['65001:100'], largeCommunities: ['65001:1:2'], med: 5 },
      { prefix: '10.244.2.0/26' },
      { prefix: '2001:db8:1::/64', communities: [65001 * 65536 + 6] },
    ]);
    await until('three routes at b', () => (p.b.routes().length === 3 ? true : undefined));
    expect(best(p.b, '10.244.1.0/26')).toMatchObject({
      from: A.address,
      nextHop: A.address,
      asPath: [A.asn],
      med: 5,
      communities: ['65001:100'],
      largeCommunities: ['65001:1:2'],
      stale: false,
    });
    expect(best(p.b, '2001:db8:1::/64')).toMatchObject({ from: A.address, communities: ['65001:6'] });
    expect(p.bChanges.map((c) => c.prefix).sort()).toEqual(['10.244.1.0/26', '10.244.2.0/26', '2001:db8:1::/64']);
    const aPeer = p.a.peers()[0]!;
    const bPeer = p.b.peers()[0]!;
    expect(aPeer.prefixes.advertised).toBe(3);
    expect(bPeer.prefixes).toEqual({ received: 3, accepted: 3, advertised: 0 });
    expect(bPeer.uptimeSeconds).toBeGreaterThanOrEqual(0);

    // the diff: one changed, one gone, one new, one unchanged
    p.bChanges.length = 0;
    p.a.setAdvertised([
      { prefix: '10.244.1.0/26', communities: ['65001:100'], largeCommunities: ['65001:1:2'], med: 9 },
      { prefix: '10.244.3.0/26' },
      { prefix: '2001:db8:1::/64', communities: [65001 * 65536 + 6] },
    ]);
    await until('diff applied at b', () =>
      best(p.b, '10.244.1.0/26')?.med === 9 &&
      p.b.routes({ prefix: '10.244.2.0/26' }).length === 0 &&
      best(p.b, '10.244.3.0/26')
        ? true
        : undefined,
    );
    const changed = new Map(p.bChanges.map((c) => [c.prefix, c.best]));
    expect(changed.get('10.244.2.0/26')).toBeNull();
    expect(changed.get('10.244.1.0/26')?.med).toBe(9);
    expect(changed.has('2001:db8:1::/64')).toBe(false);
    expect(
      p.b
        .routes({ family: 'ipv4-unicast' })
        .map((r) => r.prefix)
        .sort(),
    ).toEqual(['10.244.1.0/26', '10.244.3.0/26']);
  });

  it('applies a new import policy without resetting the session, by route refresh', async () => {
    const p = await pair();
    p.a.setAdvertised([{ prefix: '10.1.0.0/24' }, { prefix: '10.2.0.0/24', communities: ['65001:666'] }]);
    await until('two routes at b', () => (p.b.routes().length === 2 ? true : undefined));
    const statesBefore = p.bStates.length;
    const reject = { terms: [{ match: { communities: { any: ['65001:666'] } }, action: 'reject' as const }] };
    p.b.setPeers([
      { address: A.address, asn: A.asn, passive: true, families: ['ipv4-unicast', 'ipv6-unicast'], import: reject },
    ]);
    await until('10.2.0.0/24 rejected after refresh', () => (p.b.routes().length === 1 ? true : undefined));
    expect(p.b.routes()[0]?.prefix).toBe('10.1.0.0/24');
    expect(p.b.peers()[0]?.prefixes).toMatchObject({ received: 2, accepted: 1 });
    // and back: accepted again
    p.b.setPeers([{ address: A.address, asn: A.asn, passive: true, families: ['ipv4-unicast', 'ipv6-unicast'] }]);
    await until('10.2.0.0/24 back', () => (p.b.routes().length === 2 ? true : undefined));
    expect(p.bStates.length).toBe(statesBefore);
    expect(p.connections).toBe(1);
  });

  it('applies an export policy change in place and resets only on session parameter changes', async () => {
    const p = await pair();
    p.a.setAdvertised([{ prefix: '10.1.0.0/24' }]);
    await until('route at b', () => best(p.b, '10.1.0.0/24'));
    const exp = { terms: [{ set: { communities: { add: ['65001:42'] } } }] };
    p.a.setPeers([
      { address: B.address, asn: B.asn, connectRetryTime: 1, families: ['ipv4-unicast', 'ipv6-unicast'], export: exp },
    ]);
    await until('community added by export policy', () =>
      best(p.b, '10.1.0.0/24')?.communities.includes('65001:42') ? true : undefined,
    );
    expect(p.connections).toBe(1);
    // hold time is a session parameter: the session is reset and comes back
    p.a.setPeers([
      {
        address: B.address,
        asn: B.asn,
        connectRetryTime: 1,
        holdTime: 30,
        families: ['ipv4-unicast', 'ipv6-unicast'],
        export: exp,
      },
    ]);
    await until('a new connection', () => (p.connections >= 2 ? true : undefined));
    await until(
      'Established again',
      () => (p.b.peers()[0]?.state === 'Established' && best(p.b, '10.1.0.0/24') ? true : undefined),
      20_000,
    );
    expect(p.b.peers()[0]?.holdTime).toBe(30);
  });

  it('removes a peer with Cease and withdraws what it sent', async () => {
    const p = await pair();
    p.a.setAdvertised([{ prefix: '10.1.0.0/24' }]);
    await until('route at b', () => best(p.b, '10.1.0.0/24'));
    p.bChanges.length = 0;
    p.a.setPeers([]);
    await until('b down', () => (p.b.peers()[0]?.state !== 'Established' ? true : undefined));
    await until('route gone at b', () => (p.b.routes().length === 0 ? true : undefined));
    expect(p.bChanges).toEqual([{ prefix: '10.1.0.0/24', family: 'ipv4-unicast', best: null }]);
    const down = p.bStates.find((s) => s.from === 'Established');
    expect(down?.error).toMatch(/Cease/i);
    expect(p.a.peers()).toEqual([]);
  });

  it('keeps a graceful-restart peer routes stale after the session drops, and sweeps after End-of-RIB', async () => {
    const gr = { gracefulRestart: { restartTime: 60 } } as const;
    const p = await pair(gr, gr);
    p.a.setAdvertised([{ prefix: '10.1.0.0/24' }, { prefix: '10.2.0.0/24' }]);
    await until('routes at b', () => (p.b.routes().length === 2 ? true : undefined));
    expect(p.b.peers()[0]?.restarting).toBe(false);
    // the transport drops without a NOTIFICATION (as when a's process dies)
    p.a.setAdvertised([{ prefix: '10.1.0.0/24' }]);
    p.farEnds[0]!.destroy();
    await until('routes stale at b', () =>
      p.b.routes().length === 2 && p.b.routes().every((r) => r.paths[0]?.stale) ? true : undefined,
    );
    expect(p.b.peers()[0]?.restarting).toBe(true);
    // a reconnects, sends its table (now only 10.1.0.0/24) and End-of-RIB: 10.2.0.0/24 is swept
    await until(
      'stale route swept',
      () => (p.b.routes().length === 1 && best(p.b, '10.1.0.0/24')?.stale === false ? true : undefined),
      15_000,
    );
    expect(p.b.peers()[0]?.restarting).toBe(false);
    expect(p.bChanges.some((c) => c.prefix === '10.2.0.0/24' && c.best === null)).toBe(true);
  });

  it('as a restarting speaker defers its table until End-of-RIB from every peer or the deferral timer', async () => {
    const gr = { gracefulRestart: { restartTime: 60 } } as const;
    const logs: string[] = [];
    // a second configured peer never comes up, so only the timer can end the deferral
    const absent: PeerConfig = { address: '10.0.0.9', asn: 65009, passive: true };
    const p = await pair(
      gr,
      gr,
      { gracefulRestart: { restarting: true, forwardingPreserved: true, selectionDeferral: 1 } },
      [absent],
      logs,
    );
    p.a.setAdvertised([{ prefix: '10.1.0.0/24' }]);
    await new Promise((r) => setTimeout(r, 400));
    expect(p.b.routes(), logs.join('\n')).toEqual([]);
    await until('route after the deferral', () => best(p.b, '10.1.0.0/24'), 5000);
    expect(logs.join('\n')).toMatch(/advertising the table \(selection deferral timer expired\)/);
  });

  it('as a restarting speaker advertises as soon as every peer sent End-of-RIB', async () => {
    const gr = { gracefulRestart: { restartTime: 60 } } as const;
    const logs: string[] = [];
    const p = await pair(
      gr,
      gr,
      { gracefulRestart: { restarting: true, forwardingPreserved: true, selectionDeferral: 30 } },
      [],
      logs,
    );
    p.a.setAdvertised([{ prefix: '10.1.0.0/24' }]);
    await until('route at b', () => best(p.b, '10.1.0.0/24'), 5000);
    expect(logs.join('\n')).toMatch(/advertising the table \(End-of-RIB received from every peer\)/);
  });
});
