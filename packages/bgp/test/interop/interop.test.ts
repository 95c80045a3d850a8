// tortie-bgpd against real BIRD 2 and FRR bgpd in network namespaces.
import { Lab, requireRoot } from '@tortie/testkit';
import { describe, expect, it } from 'vitest';
import { Bird, type BirdConfig, Frr, type RouteSpec, TortieBgpd, waitFor } from './harness.js';

const TORTIE_AS = 4200000002;
const BIRD_AS = 65001;
const FRR_AS = 4200000003;

function tortieConfig(extra: { birdImport?: unknown } = {}): Record<string, unknown> {
  return {
    routerId: '10.0.0.2',
    asn: TORTIE_AS,
    listen: { address: '0.0.0.0', port: 179 },
    logLevel: 'debug',
    neighbors: [
      {
        address: '10.0.0.1',
        asn: BIRD_AS,
        holdTime: 30,
        connectRetryTime: 1,
        ipv6NextHop: 'fd00::2',
        ...(extra.birdImport === undefined ? {} : { import: extra.birdImport }),
      },
      { address: '10.0.1.1', asn: FRR_AS, passive: true, holdTime: 30, ipv6NextHop: 'fd01::2' },
    ],
    advertise: [
      { prefix: '10.244.1.0/26', communities: ['65002:100'], largeCommunities: ['4200000002:7:8'], med: 17 },
      { prefix: '2001:db8:244::/64', communities: ['65002:106'] },
    ],
  };
}

const birdBase = (routes4: readonly RouteSpec[]): BirdConfig => ({
  routerId: '10.0.0.1',
  asn: BIRD_AS,
  neighbors: [
    { name: 'tortie', address: '10.0.0.2', asn: TORTIE_AS, passive: true, ipv6NextHop: 'fd00::1', holdTime: 30 },
  ],
  routes4,
  routes6: [{ prefix: '2001:db8:1::/48', communities: ['65001:6'] }],
});

describe('tortie-bgpd interop with BIRD 2 and FRR', () => {
  it('exchanges IPv4 and IPv6 routes with attributes, withdraws, refreshes and shuts down cleanly', async () => {
    requireRoot('the interop tests');
    await using lab = await Lab.create();
    const t = await lab.namespace('tortie');
    const b = await lab.namespace('bird');
    const f = await lab.namespace('frr');
    await lab.veth(t, 'tb', b, 'bt', { aAddress: '10.0.0.2/24', bAddress: '10.0.0.1/24' });
    await lab.veth(t, 'tf', f, 'ft', { aAddress: '10.0.1.2/24', bAddress: '10.0.1.1/24' });
    await t.ip(['addr', 'add', 'fd00::2/64', 'dev', 'tb', 'nodad']);
    await b.ip(['addr', 'add', 'fd00::1/64', 'dev', 'bt', 'nodad']);
    await t.ip(['addr', 'add', 'fd01::2/64', 'dev', 'tf', 'nodad']);
    await f.ip(['addr', 'add', 'fd01::1/64', 'dev', 'ft', 'nodad']);

    const bird = await Bird.start(
      b,
      birdBase([
        { prefix: '10.1.0.0/24', communities: ['65001:7'], largeCommunities: ['65001:1:2'] },
        { prefix: '10.1.1.0/24' },
      ]),
    );
    const frr = await Frr.start(f, {
      routerId: '10.0.1.1',
      asn: FRR_AS,
      neighbors: [{ address: '10.0.1.2', asn: TORTIE_AS, ipv6NextHop: 'fd01::1', holdTime: 30 }],
      routes4: [{ prefix: '10.2.0.0/24', communities: ['65003:9'], largeCommunities: ['4200000003:5:6'], med: 42 }],
      routes6: [{ prefix: '2001:db8:2::/48' }],
    });
    // import policy on the BIRD session rejects 10.1.1.0/24 at first (changed later by SIGHUP)
    const reject11 = { terms: [{ match: { prefixList: [{ prefix: '10.1.1.0/24' }] }, action: 'reject' }] };
    const tortie = await TortieBgpd.start(t, tortieConfig({ birdImport: reject11 }));
    try {
      // active towards BIRD (BIRD is passive), passive towards FRR (FRR connects)
      await tortie.waitEstablished('10.0.0.1');
      await tortie.waitEstablished('10.0.1.1');
      await bird.waitEstablished('tortie');
      await frr.waitEstablished('10.0.1.2');

      // BIRD -> tortie -> FRR, IPv4 with communities and large communities, 4-octet AS path
      const atFrr = await waitFor('10.1.0.0/24 at FRR', () => frr.route('ipv4', '10.1.0.0/24'));
      expect(atFrr.paths[0]?.aspath?.string).toBe(`${TORTIE_AS} ${BIRD_AS}`);
      expect(atFrr.paths[0]?.community?.string).toBe('65001:7');
      expect(atFrr.paths[0]?.largeCommunity?.string).toBe('65001:1:2');
      expect(atFrr.paths[0]?.nexthops?.[0]?.ip).toBe('10.0.1.2');
      // FRR -> tortie -> BIRD
      const atBird = await waitFor('10.2.0.0/24 at BIRD', async () =>
        (await bird.routes('master4')).find((r) => r.prefix === '10.2.0.0/24'),
      );
      expect(atBird.attrs.as_path).toBe(`${TORTIE_AS} ${FRR_AS}`);
      expect(atBird.attrs.community).toBe('(65003,9)');
      expect(atBird.attrs.large_community).toBe('(4200000003, 5, 6)');
      expect(atBird.attrs.next_hop).toBe('10.0.0.2');
      // tortie's own route with MED, at both
      const ownAtBird = await waitFor('10.244.1.0/26 at BIRD', async () =>
        (await bird.routes('master4')).find((r) => r.prefix === '10.244.1.0/26'),
      );
      expect(ownAtBird.attrs.med).toBe('17');
      expect(ownAtBird.attrs.community).toBe('(65002,100)');
      expect(ownAtBird.attrs.large_community).toBe('(4200000002, 7, 8)');
      const ownAtFrr = await waitFor('10.244.1.0/26 at FRR', () => frr.route('ipv4', '10.244.1.0/26'));
      expect(ownAtFrr.paths[0]?.metric ?? ownAtFrr.paths[0]?.med).toBe(17);
      expect(ownAtFrr.paths[0]?.aspath?.string).toBe(`${TORTIE_AS}`);
      // what tortie holds: FRR's MED and attributes as received
      const routes = await tortie.routes();
      const r2 = routes.find((r) => r.prefix === '10.2.0.0/24');
      expect(r2?.paths[0]).toMatchObject({
        from: '10.0.1.1',
        nextHop: '10.0.1.1',
        asPath: `${FRR_AS}`,
        med: 42,
        communities: ['65003:9'],
        largeCommunities: ['4200000003:5:6'],
        best: true,
      });
      // the import policy rejected 10.1.1.0/24: received 2 IPv4 + 1 IPv6, accepted 2
      expect(routes.find((r) => r.prefix === '10.1.1.0/24')).toBeUndefined();
      const nb = (await tortie.neighbors()).find((n) => n.address === '10.0.0.1')!;
      expect(nb.prefixes).toMatchObject({ received: 3, accepted: 2 });

      // IPv6 (MP-BGP over the IPv4 sessions), both ways, with the configured next hops
      const v6AtFrr = await waitFor('2001:db8:1::/48 at FRR', () => frr.route('ipv6', '2001:db8:1::/48'));
      expect(v6AtFrr.paths[0]?.aspath?.string).toBe(`${TORTIE_AS} ${BIRD_AS}`);
      expect(v6AtFrr.paths[0]?.community?.string).toBe('65001:6');
      expect(v6AtFrr.paths[0]?.nexthops?.[0]?.ip).toBe('fd01::2');
      const v6AtBird = await waitFor('2001:db8:2::/48 at BIRD', async () =>
        (await bird.routes('master6')).find((r) => r.prefix === '2001:db8:2::/48'),
      );
      expect(v6AtBird.attrs.as_path).toBe(`${TORTIE_AS} ${FRR_AS}`);
      expect(v6AtBird.attrs.next_hop).toMatch(/^fd00::2/);
      await waitFor('2001:db8:244::/64 at FRR', () => frr.route('ipv6', '2001:db8:244::/64'));

      // route refresh, tortie asking: SIGHUP with a new import policy; the BIRD session is not reset
      const uptimeBefore = (await tortie.neighbors()).find((n) => n.address === '10.0.0.1');
      await tortie.rewrite(tortieConfig());
      tortie.process.signal('SIGHUP');
      await waitFor('10.1.1.0/24 at tortie after refresh', async () =>
        (await tortie.routes()).find((r) => r.prefix === '10.1.1.0/24'),
      );
      const after = (await tortie.neighbors()).find((n) => n.address === '10.0.0.1') as unknown as {
        establishedAt: string;
      };
      expect(after.establishedAt).toBe((uptimeBefore as unknown as { establishedAt: string }).establishedAt);
      expect(tortie.process.output).not.toMatch(/10\.0\.0\.1: Established -> /);

      // route refresh, FRR asking: tortie sends its table again
      const before = await frr.json<Record<string, { messageStats: { updatesRecv: number } }>>(
        'show bgp neighbors 10.0.1.2 json',
      );
      await frr.vtysh(['clear bgp ipv4 unicast 10.0.1.2 soft in']);
      await waitFor('UPDATEs re-sent after FRR route refresh', async () => {
        const now = await frr.json<Record<string, { messageStats: { updatesRecv: number; refreshSent?: number } }>>(
          'show bgp neighbors 10.0.1.2 json',
        );
        return now['10.0.1.2']!.messageStats.updatesRecv > before['10.0.1.2']!.messageStats.updatesRecv;
      });
      expect(await frr.route('ipv4', '10.1.0.0/24')).toBeDefined();

      // withdrawal: BIRD drops 10.1.0.0/24 -> gone at tortie and at FRR
      await bird.reconfigure(birdBase([{ prefix: '10.1.1.0/24' }]));
      await waitFor('10.1.0.0/24 withdrawn at FRR', async () => (await frr.route('ipv4', '10.1.0.0/24')) === undefined);
      expect((await tortie.routes()).find((r) => r.prefix === '10.1.0.0/24')).toBeUndefined();

      // status command, human form
      const table = await tortie.status([]);
      expect(table).toMatch(/^NEIGHBOR\s+AS\s+STATE/);
      expect(table).toMatch(/10\.0\.0\.1\s+65001\s+Established/);

      // SIGTERM: Cease / Administrative Shutdown to every peer, exit 0
      tortie.process.signal('SIGTERM');
      const exit = await tortie.process.wait();
      expect(exit.exitCode).toBe(0);
      const proto = await bird.cmd(['show', 'protocols', 'all', 'tortie']);
      expect(proto).toMatch(/Administrative shutdown/i);
      const nf = await frr.json<Record<string, { lastNotificationReason?: string; lastResetDueTo?: string }>>(
        'show bgp neighbors 10.0.1.2 json',
      );
      expect(JSON.stringify(nf)).toMatch(/Administrative Shutdown/i);
    } catch (e) {
      console.error(tortie.process.output.slice(-6000));
      throw e;
    }
  });

  it('graceful restart both ways: stale routes kept and swept after End-of-RIB (BIRD restarting, then tortie-bgpd -R)', async () => {
    requireRoot('the interop tests');
    await using lab = await Lab.create();
    const t = await lab.namespace('tortie');
    const b = await lab.namespace('bird');
    await lab.veth(t, 'tb', b, 'bt', { aAddress: '10.0.0.2/24', bAddress: '10.0.0.1/24' });
    const cfg = (routes4: readonly RouteSpec[]): BirdConfig => ({
      routerId: '10.0.0.1',
      asn: BIRD_AS,
      gracefulRestartTime: 60,
      neighbors: [
        { name: 'tortie', address: '10.0.0.2', asn: TORTIE_AS, ipv6: false, holdTime: 30, gracefulRestart: true },
      ],
      routes4,
    });
    const bird = await Bird.start(b, cfg([{ prefix: '10.1.0.0/24' }, { prefix: '10.1.1.0/24' }]));
    const tcfg = (advertise: string[]) => ({
      routerId: '10.0.0.2',
      asn: TORTIE_AS,
      listen: { address: '0.0.0.0', port: 179 },
      logLevel: 'debug',
      neighbors: [
        {
          address: '10.0.0.1',
          asn: BIRD_AS,
          holdTime: 30,
          connectRetryTime: 1,
          families: ['ipv4-unicast'],
          gracefulRestart: { restartTime: 120 },
        },
      ],
      advertise: advertise.map((prefix) => ({ prefix })),
    });
    const tortie = await TortieBgpd.start(t, tcfg(['10.244.0.0/24', '10.244.1.0/24']));
    try {
      await tortie.waitEstablished('10.0.0.1');
      const held = async (): Promise<Map<string, boolean>> =>
        new Map(
          (await tortie.routes())
            .filter((r) => r.prefix.startsWith('10.1.'))
            .map((r) => [r.prefix, r.paths[0]!.stale] as const),
        );
      await waitFor('both BIRD routes at tortie', async () => (await held()).size === 2);

      // BIRD dies without a NOTIFICATION: its routes stay, as stale
      bird.process.signal('SIGKILL');
      await bird.process.wait();
      await waitFor('routes marked stale', async () => {
        const h = await held();
        return h.get('10.1.0.0/24') === true && h.get('10.1.1.0/24') === true;
      });
      const nb = (await tortie.neighbors())[0]!;
      expect(nb.state).not.toBe('Established');
      expect(nb.restarting).toBe(true);

      // BIRD comes back (-R: restarting, R bit) announcing only 10.1.0.0/24, then End-of-RIB
      await bird.crashAndRestart(cfg([{ prefix: '10.1.0.0/24' }]));
      await waitFor(
        'stale route swept after End-of-RIB',
        async () => {
          const h = await held();
          return h.size === 1 && h.get('10.1.0.0/24') === false;
        },
        40_000,
      );
      expect(tortie.process.output).toMatch(/sweeping stale routes \(End-of-RIB received\)/);

      // the other role: tortie-bgpd restarts (-R: R and F bits); BIRD, as helper, keeps its routes
      // until tortie's End-of-RIB, then drops what tortie no longer announces
      const atBird = async (): Promise<string[]> =>
        (await bird.routes('master4'))
          .filter((r) => r.prefix.startsWith('10.244.'))
          .map((r) => r.prefix)
          .sort();
      await waitFor('tortie routes at BIRD', async () => (await atBird()).length === 2);
      tortie.process.signal('SIGKILL');
      await tortie.process.wait();
      await waitFor('BIRD sees the session drop', async () => (await bird.protocolState('tortie')) !== 'Established');
      expect(await atBird()).toEqual(['10.244.0.0/24', '10.244.1.0/24']);
      await tortie.crashAndRestart(tcfg(['10.244.0.0/24']), ['-R']);
      await bird.waitEstablished('tortie');
      // BIRD saw our R bit and F bit
      const caps = (await bird.cmd(['show', 'protocols', 'all', 'tortie'])).split('Neighbor capabilities')[1] ?? '';
      expect(caps).toMatch(/Restart recovery/);
      expect(caps).toMatch(/AF preserved:\s+ipv4/);
      await waitFor('BIRD swept 10.244.1.0/24 after our End-of-RIB', async () => {
        const r = await atBird();
        return r.length === 1 && r[0] === '10.244.0.0/24';
      });
      // as restarting speaker, tortie deferred its table until BIRD's End-of-RIB (RFC 4724 §4.1)
      expect(tortie.process.output).toMatch(/advertising the table \(End-of-RIB received from every peer\)/);
    } catch (e) {
      console.error(tortie.process.output.slice(-6000));
      throw e;
    }
  });

  it('reflects routes between two iBGP route-reflector clients (BIRD and FRR)', async () => {
    requireRoot('the interop tests');
    await using lab = await Lab.create();
    const rr = await lab.namespace('rr');
    const c1 = await lab.namespace('c1');
    const c2 = await lab.namespace('c2');
    await lab.veth(rr, 'r1', c1, 'c1', { aAddress: '10.0.2.1/24', bAddress: '10.0.2.2/24' });
    await lab.veth(rr, 'r2', c2, 'c2', { aAddress: '10.0.3.1/24', bAddress: '10.0.3.2/24' });
    const AS = 65000;
    const bird = await Bird.start(c1, {
      routerId: '10.0.2.2',
      asn: AS,
      neighbors: [{ name: 'reflector', address: '10.0.2.1', asn: AS, ipv6: false, holdTime: 30 }],
      routes4: [{ prefix: '10.5.0.0/24', communities: ['65000:5'] }],
      extra: 'protocol static reach { ipv4; route 10.0.3.0/24 via 10.0.2.1; }',
    });
    const frr = await Frr.start(c2, {
      routerId: '10.0.3.2',
      asn: AS,
      neighbors: [{ address: '10.0.3.1', asn: AS, ipv6: false, holdTime: 30 }],
      routes4: [{ prefix: '10.6.0.0/24', largeCommunities: ['65000:6:6'] }],
    });
    const tortie = await TortieBgpd.start(rr, {
      routerId: '10.0.2.1',
      asn: AS,
      clusterId: '10.9.9.9',
      listen: { address: '0.0.0.0', port: 179 },
      neighbors: [
        {
          address: '10.0.2.2',
          asn: AS,
          holdTime: 30,
          connectRetryTime: 1,
          families: ['ipv4-unicast'],
          routeReflectorClient: true,
        },
        {
          address: '10.0.3.2',
          asn: AS,
          holdTime: 30,
          connectRetryTime: 1,
          families: ['ipv4-unicast'],
          routeReflectorClient: true,
        },
      ],
    });
    try {
      await tortie.waitEstablished('10.0.2.2');
      await tortie.waitEstablished('10.0.3.2');
      // BIRD's route reflected to FRR: next hop kept, ORIGINATOR_ID and CLUSTER_LIST added
      const atFrr = await waitFor('10.5.0.0/24 at FRR', () => frr.route('ipv4', '10.5.0.0/24'));
      const p = atFrr.paths[0] as unknown as {
        aspath: { string: string };
        originatorId?: string;
        clusterList?: { list: string[] };
        community?: { string: string };
        nexthops: { ip: string }[];
      };
      expect(p.aspath.string).toBe('Local'); // FRR's word for an empty AS path (iBGP)
      expect(p.nexthops[0]?.ip).toBe('10.0.2.2');
      expect(p.originatorId).toBe('10.0.2.2');
      expect(p.clusterList?.list).toEqual(['10.9.9.9']);
      expect(p.community?.string).toBe('65000:5');
      // FRR's route reflected to BIRD
      const atBird = await waitFor('10.6.0.0/24 at BIRD', async () =>
        (await bird.routes('master4')).find((r) => r.prefix === '10.6.0.0/24'),
      );
      expect(atBird.attrs.originator_id).toBe('10.0.3.2');
      expect(atBird.attrs.cluster_list).toBe('10.9.9.9');
      expect(atBird.attrs.large_community).toBe('(65000, 6, 6)');
      expect(atBird.attrs.next_hop).toBe('10.0.3.2');
    } catch (e) {
      console.error(tortie.process.output.slice(-6000));
      throw e;
    }
  });

  it('runs a session over IPv6 transport with FRR (IPv6 unicast, next hop self from the session address)', async () => {
    requireRoot('the interop tests');
    await using lab = await Lab.create();
    const t = await lab.namespace('tortie');
    const f = await lab.namespace('frr');
    await lab.veth(t, 'tf', f, 'ft');
    await t.ip(['addr', 'add', 'fd02::2/64', 'dev', 'tf', 'nodad']);
    await f.ip(['addr', 'add', 'fd02::1/64', 'dev', 'ft', 'nodad']);
    const frr = await Frr.start(f, {
      routerId: '10.0.9.1',
      asn: FRR_AS,
      neighbors: [{ address: 'fd02::2', asn: TORTIE_AS, holdTime: 30 }],
      routes6: [{ prefix: '2001:db8:9::/48', communities: ['65003:9'], largeCommunities: ['4200000003:9:9'] }],
    });
    const tortie = await TortieBgpd.start(t, {
      routerId: '10.0.9.2',
      asn: TORTIE_AS,
      neighbors: [{ address: 'fd02::1', asn: FRR_AS, holdTime: 30, connectRetryTime: 1 }],
      advertise: [{ prefix: '2001:db8:244::/64', largeCommunities: ['4200000002:1:1'] }],
    });
    try {
      await tortie.waitEstablished('fd02::1');
      const r = await waitFor('2001:db8:9::/48 at tortie', async () =>
        (await tortie.routes()).find((x) => x.prefix === '2001:db8:9::/48'),
      );
      expect(r.family).toBe('ipv6-unicast');
      expect(r.paths[0]).toMatchObject({
        from: 'fd02::1',
        nextHop: 'fd02::1',
        asPath: `${FRR_AS}`,
        communities: ['65003:9'],
        largeCommunities: ['4200000003:9:9'],
      });
      const atFrr = await waitFor('2001:db8:244::/64 at FRR', () => frr.route('ipv6', '2001:db8:244::/64'));
      expect(atFrr.paths[0]?.aspath?.string).toBe(`${TORTIE_AS}`);
      expect(atFrr.paths[0]?.largeCommunity?.string).toBe('4200000002:1:1');
      expect(atFrr.paths[0]?.nexthops?.[0]?.ip).toBe('fd02::2');
    } catch (e) {
      console.error(tortie.process.output.slice(-6000));
      throw e;
    }
  });
});
