import { describe, expect, it } from 'vitest';
import {
  advertisementFilter,
  compilePolicy,
  createExporter,
  createImporter,
  importCheck,
  type LocalSpeaker,
  PolicyConfigError,
} from '../../src/policy/index.js';
import { AdjRibIn, AdjRibOut, LocRib, parsePrefixKey, type RibPeer, type RibPeerConfig } from '../../src/rib/index.js';
import type { PathAttributes } from '../../src/wire/types.js';

const local: LocalSpeaker = { asn: 64512, routerId: '10.0.0.1', routeReflector: true, clusterId: '10.0.0.100' };
const P = parsePrefixKey('10.244.1.0/26');

function peers() {
  const rib = new LocRib();
  const mk = (name: string, c: Partial<RibPeerConfig>) =>
    rib.addPeer({
      name,
      address: `10.1.0.${rib.allPeers().length + 1}`,
      routerId: `10.2.0.${rib.allPeers().length + 1}`,
      asn: 64512,
      type: 'ibgp',
      ...c,
    });
  return {
    rib,
    client: mk('client', { rrClient: true }),
    client2: mk('client2', { rrClient: true }),
    nonClient: mk('nonClient', {}),
    nonClient2: mk('nonClient2', {}),
    ebgp: mk('ebgp', { type: 'ebgp', asn: 65001 }),
    ebgp2: mk('ebgp2', { type: 'ebgp', asn: 65002 }),
    self: mk('local', { type: 'local' }),
  };
}

const plain: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '192.0.2.1' };

describe('advertisement rules', () => {
  it('route-reflection matrix (RFC 4456 §6)', () => {
    const p = peers();
    const from = ['client', 'nonClient', 'ebgp', 'self'] as const;
    const to = ['client2', 'nonClient2', 'ebgp2'] as const;
    const expected: Record<string, Record<string, boolean>> = {
      client: { client2: true, nonClient2: true, ebgp2: true },
      nonClient: { client2: true, nonClient2: false, ebgp2: true },
      ebgp: { client2: true, nonClient2: true, ebgp2: true },
      self: { client2: true, nonClient2: true, ebgp2: true },
    };
    for (const f of from)
      for (const t of to)
        expect([f, t, advertisementFilter(local, p[f], p[t], plain)]).toEqual([f, t, expected[f]![t]]);
    // without reflection, iBGP learns go to eBGP only
    const noRr = { ...local, routeReflector: false };
    expect(advertisementFilter(noRr, p.client, p.client2, plain)).toBe(false);
    expect(advertisementFilter(noRr, p.nonClient, p.nonClient2, plain)).toBe(false);
    expect(advertisementFilter(noRr, p.nonClient, p.ebgp2, plain)).toBe(true);
    expect(advertisementFilter(noRr, p.ebgp, p.nonClient, plain)).toBe(true);
    // never back to the source
    expect(advertisementFilter(local, p.client, p.client, plain)).toBe(false);
  });

  it('well-known communities', () => {
    const p = peers();
    const noExport = { ...plain, communities: [0xffffff01] };
    const noAdvertise = { ...plain, communities: [0xffffff02] };
    const noSubconfed = { ...plain, communities: [0xffffff03] };
    expect(advertisementFilter(local, p.ebgp, p.client, noExport)).toBe(true);
    expect(advertisementFilter(local, p.ebgp, p.ebgp2, noExport)).toBe(false);
    expect(advertisementFilter(local, p.ebgp, p.ebgp2, noSubconfed)).toBe(false);
    expect(advertisementFilter(local, p.ebgp, p.client, noSubconfed)).toBe(true);
    expect(advertisementFilter(local, p.ebgp, p.client, noAdvertise)).toBe(false);
    expect(advertisementFilter(local, p.ebgp, p.ebgp2, noAdvertise)).toBe(false);
  });
});

describe('import rules', () => {
  it('AS loop detection with allowas-in', () => {
    const p = peers();
    const looped = { ...plain, asPath: [{ type: 2 as const, asns: [65001, 64512, 7] }] };
    const twice = { ...plain, asPath: [{ type: 2 as const, asns: [65001, 64512, 64512] }] };
    expect(importCheck(local, p.ebgp, plain)).toBeNull();
    expect(importCheck(local, p.ebgp, looped)).toBe('as-loop');
    expect(importCheck(local, p.ebgp, looped, 1)).toBeNull();
    expect(importCheck(local, p.ebgp, twice, 1)).toBe('as-loop');
    expect(importCheck(local, p.ebgp, { ...plain, asPath: [{ type: 1, asns: [64512] }] })).toBe('as-loop');
  });

  it('drops reflected routes with our ORIGINATOR_ID or our cluster id in CLUSTER_LIST', () => {
    const p = peers();
    expect(importCheck(local, p.client, { ...plain, asPath: [], originatorId: '10.0.0.1' })).toBe('originator-id');
    expect(importCheck(local, p.client, { ...plain, asPath: [], clusterList: ['1.1.1.1', '10.0.0.100'] })).toBe(
      'cluster-loop',
    );
    expect(importCheck(local, p.client, { ...plain, asPath: [], clusterList: ['1.1.1.1'] })).toBeNull();
    // cluster id defaults to the router id
    const noCluster = { asn: 64512, routerId: '10.0.0.1' };
    expect(importCheck(noCluster, p.client, { ...plain, asPath: [], clusterList: ['10.0.0.1'] })).toBe('cluster-loop');
  });

  it('enforces the first AS from eBGP peers unless disabled', () => {
    const p = peers();
    const other = { ...plain, asPath: [{ type: 2 as const, asns: [65009] }] };
    expect(importCheck(local, p.ebgp, other)).toBe('first-as');
    expect(importCheck(local, p.ebgp, other, 0, false)).toBeNull();
  });

  it('importer: strips LOCAL_PREF from eBGP, keeps it from iBGP, then runs the policy', () => {
    const p = peers();
    const imp = createImporter({
      local,
      peer: p.ebgp,
      policy: compilePolicy({ terms: [{ match: { communities: { any: ['1:1'] } }, action: 'reject' }] }),
    });
    expect(imp.importRoute({ ...plain, localPref: 500 }, P)).toEqual(plain);
    expect(imp.importRoute({ ...plain, communities: [65537] }, P)).toBeNull();
    const ibgp = createImporter({ local, peer: p.client });
    expect(ibgp.importRoute({ ...plain, asPath: [], localPref: 500 }, P)?.localPref).toBe(500);
    expect(() => createImporter({ local, peer: p.ebgp, allowAsIn: -1 })).toThrow(PolicyConfigError);
    expect(() => createImporter({ local: { ...local, routerId: 'x' }, peer: p.ebgp })).toThrow(/local\.routerId/);
  });
});

describe('export rules', () => {
  const attrsFrom = (rib: LocRib, from: RibPeer, a: PathAttributes) => {
    rib.applyUpdate(from, a, [P]);
    return rib.routeFrom(from, P)!.attrSet;
  };

  it('towards eBGP: prepend our AS (plus extra), next hop self, no LOCAL_PREF, no learned MED, no RR attributes', () => {
    const p = peers();
    const set = attrsFrom(p.rib, p.client, {
      ...plain,
      asPath: [{ type: 2, asns: [65005] }],
      localPref: 200,
      med: 10,
      originatorId: '1.1.1.1',
      clusterList: ['2.2.2.2'],
    });
    const ex = createExporter({ local, peer: p.ebgp2, localAddress: '198.51.100.2', asPrepend: 2 });
    expect(ex.exportRoute(p.client, set, P)).toEqual({
      origin: 0,
      asPath: [{ type: 2, asns: [64512, 64512, 64512, 65005] }],
      nextHop: '198.51.100.2',
    });
    const keep = createExporter({ local, peer: p.ebgp2, localAddress: '198.51.100.2', nextHop: 'keep' });
    expect(keep.exportRoute(p.client, set, P)?.nextHop).toBe('192.0.2.1');
  });

  it('towards iBGP: next hop kept, LOCAL_PREF 100 when absent; self on request', () => {
    const p = peers();
    const set = attrsFrom(p.rib, p.ebgp, plain);
    const ex = createExporter({ local, peer: p.nonClient, localAddress: '10.1.0.254' });
    expect(ex.exportRoute(p.ebgp, set, P)).toEqual({ ...plain, localPref: 100 });
    const self = createExporter({ local, peer: p.nonClient, localAddress: '10.1.0.254', nextHop: 'self' });
    expect(self.exportRoute(p.ebgp, set, P)?.nextHop).toBe('10.1.0.254');
  });

  it('reflection sets ORIGINATOR_ID (kept when present) and prepends the cluster id', () => {
    const p = peers();
    const set = attrsFrom(p.rib, p.client, { ...plain, asPath: [], localPref: 120 });
    const ex = createExporter({ local, peer: p.nonClient });
    expect(ex.exportRoute(p.client, set, P)).toEqual({
      ...plain,
      asPath: [],
      localPref: 120,
      originatorId: p.client.routerId,
      clusterList: ['10.0.0.100'],
    });
    const set2 = attrsFrom(p.rib, p.client2, {
      ...plain,
      asPath: [],
      originatorId: '7.7.7.7',
      clusterList: ['9.9.9.9'],
    });
    expect(ex.exportRoute(p.client2, set2, P)).toMatchObject({
      originatorId: '7.7.7.7',
      clusterList: ['10.0.0.100', '9.9.9.9'],
    });
    // non-client to non-client: not reflected
    const set3 = attrsFrom(p.rib, p.nonClient2, { ...plain, asPath: [] });
    expect(ex.exportRoute(p.nonClient2, set3, P)).toBeNull();
  });

  it('export policy runs after the standard rules', () => {
    const p = peers();
    const set = attrsFrom(p.rib, p.ebgp, plain);
    const ex = createExporter({
      local,
      peer: p.ebgp2,
      localAddress: '198.51.100.2',
      policy: compilePolicy({ terms: [{ match: { asPath: { regex: '^64512 65001$' } }, set: { med: 50 } }] }),
    });
    expect(ex.exportRoute(p.ebgp, set, P)?.med).toBe(50);
  });

  it('end to end: eBGP learn through the RIB to a reflector client and an eBGP peer, loop rejected on import', () => {
    const p = peers();
    const inE = new AdjRibIn(p.rib, p.ebgp, createImporter({ local, peer: p.ebgp }));
    const toClient = new AdjRibOut(
      p.rib,
      p.client,
      createExporter({ local, peer: p.client, localAddress: '10.1.0.254' }),
    );
    const toE2 = new AdjRibOut(p.rib, p.ebgp2, createExporter({ local, peer: p.ebgp2, localAddress: '198.51.100.2' }));
    const loopKey = parsePrefixKey('10.244.2.0/26');
    inE.update(plain, [P]);
    inE.update({ ...plain, asPath: [{ type: 2, asns: [65001, 64512] }] }, [loopKey]);
    expect(p.rib.best(loopKey)).toBeUndefined();
    const c = toClient.takeBatches();
    const e = toE2.takeBatches();
    expect(c).toHaveLength(1);
    expect(c[0]!.attrSet!.attrs).toEqual({ ...plain, localPref: 100 });
    expect(e[0]!.attrSet!.attrs).toEqual({
      ...plain,
      asPath: [{ type: 2, asns: [64512, 65001] }],
      nextHop: '198.51.100.2',
    });
  });
});
