// Proves the harness itself: BIRD and FRR peer with each other in namespaces, routes with
// attributes flow both ways. The tortie-bgpd interop tests build on the same helpers.
import { Lab, requireRoot } from '@tortie/testkit';
import { describe, expect, it } from 'vitest';
import { Bird, Frr, waitFor } from './harness.js';

describe('interop harness: BIRD 2 <-> FRR', () => {
  it('brings up an eBGP session and exchanges IPv4 and IPv6 routes with attributes', async () => {
    requireRoot('the BIRD/FRR harness test');
    await using lab = await Lab.create();
    const a = await lab.namespace('bird');
    const b = await lab.namespace('frr');
    await lab.veth(a, 'eth0', b, 'eth0', { aAddress: '10.0.0.1/24', bAddress: '10.0.0.2/24' });
    await a.ip(['addr', 'add', 'fd00::1/64', 'dev', 'eth0', 'nodad']);
    await b.ip(['addr', 'add', 'fd00::2/64', 'dev', 'eth0', 'nodad']);
    const bird = await Bird.start(a, {
      routerId: '10.0.0.1',
      asn: 4200000001,
      neighbors: [{ name: 'frr', address: '10.0.0.2', asn: 65002, ipv6NextHop: 'fd00::1' }],
      routes4: [{ prefix: '10.1.0.0/24', communities: ['65001:7'], largeCommunities: ['4200000001:1:2'] }],
      routes6: [{ prefix: '2001:db8:1::/48' }],
    });
    const frr = await Frr.start(b, {
      routerId: '10.0.0.2',
      asn: 65002,
      neighbors: [{ address: '10.0.0.1', asn: 4200000001, ipv6NextHop: 'fd00::2' }],
      routes4: [{ prefix: '10.2.0.0/24', communities: ['65002:9'], med: 42 }],
      routes6: [{ prefix: '2001:db8:2::/48' }],
    });
    await frr.waitEstablished('10.0.0.1');
    await bird.waitEstablished('frr');
    const detail = await waitFor('10.1.0.0/24 at FRR', () => frr.route('ipv4', '10.1.0.0/24'));
    const p = detail.paths[0]!;
    expect(p.aspath?.string).toBe('4200000001');
    expect(p.community?.string).toBe('65001:7');
    expect(p.largeCommunity?.string).toBe('4200000001:1:2');
    await waitFor('2001:db8:1::/48 at FRR', () => frr.route('ipv6', '2001:db8:1::/48'));
    const r4 = await waitFor('10.2.0.0/24 at BIRD', async () =>
      (await bird.routes('master4')).find((r) => r.prefix === '10.2.0.0/24'),
    );
    expect(r4.attrs.as_path).toBe('65002');
    expect(r4.attrs.community).toBe('(65002,9)');
    expect(r4.attrs.med).toBe('42');
    const r6 = await waitFor('2001:db8:2::/48 at BIRD', async () =>
      (await bird.routes('master6')).find((r) => r.prefix === '2001:db8:2::/48'),
    );
    expect(r6.attrs.next_hop).toMatch(/fd00::2/);
  });
});
