import { describe, expect, it } from 'vitest';
import type { RibPeer } from '../../src/rib/index.js';
import type { PathAttributes } from '../../src/wire/types.js';
import { attrs, k, ribWith, seq } from './helpers.js';

const P = k('10.1.0.0/16');

/** Offers each [peer, attributes] for P, in order, and returns the winning peer. */
function winner(routes: [RibPeer, PathAttributes][], rib: ReturnType<typeof ribWith>['rib']): RibPeer | undefined {
  for (const [p, a] of routes) rib.applyUpdate(p, a, [P]);
  return rib.best(P)?.peer;
}

describe('decision process, each step alone', () => {
  it('single candidate is best without comparison', () => {
    const { rib, add } = ribWith();
    const a = add();
    const changed = rib.applyUpdate(a, attrs(), [P]);
    expect(changed).toHaveLength(1);
    expect(rib.best(P)?.peer).toBe(a);
    expect(rib.size).toBe(1);
  });

  it('a. highest LOCAL_PREF (missing counts as the default 100)', () => {
    const { rib, add } = ribWith();
    const a = add({ type: 'ibgp', asn: 64512 });
    const b = add({ type: 'ibgp', asn: 64512 });
    const c = add({ type: 'ibgp', asn: 64512 });
    expect(
      winner(
        [
          [a, attrs({ localPref: 100 })],
          [b, attrs({ localPref: 200 })],
          [c, attrs()],
        ],
        rib,
      ),
    ).toBe(b);
    const r2 = ribWith({ defaultLocalPref: 300 });
    const x = r2.add({ type: 'ibgp', asn: 64512 });
    const y = r2.add({ type: 'ibgp', asn: 64512 });
    expect(
      winner(
        [
          [x, attrs({ localPref: 200 })],
          [y, attrs()],
        ],
        r2.rib,
      ),
    ).toBe(y);
  });

  it('b. shortest AS_PATH; AS_SET counts 1, confederation segments 0', () => {
    const { rib, add } = ribWith();
    const a = add();
    const b = add();
    expect(
      winner(
        [
          [a, attrs({ asPath: [seq(65001, 2, 3)] })],
          [b, attrs({ asPath: [seq(65001, 2)] })],
        ],
        rib,
      ),
    ).toBe(b);

    const r2 = ribWith();
    const c = r2.add();
    const d = r2.add();
    // c: 65001 {1,2,3,4} = 2 ; d: 65001 5 6 = 3
    expect(
      winner(
        [
          [c, attrs({ asPath: [seq(65001), { type: 1, asns: [1, 2, 3, 4] }] })],
          [d, attrs({ asPath: [seq(65001, 5, 6)] })],
        ],
        r2.rib,
      ),
    ).toBe(c);

    const r3 = ribWith();
    const e = r3.add();
    const f = r3.add();
    // e: (64600 64601) 65001 7 = 2 ; f: 65001 7 8 = 3
    expect(
      winner(
        [
          [e, attrs({ asPath: [{ type: 3, asns: [64600, 64601] }, seq(65001, 7)] })],
          [f, attrs({ asPath: [seq(65001, 7, 8)] })],
        ],
        r3.rib,
      ),
    ).toBe(e);
  });

  it('c. lowest ORIGIN', () => {
    const { rib, add } = ribWith();
    const a = add();
    const b = add();
    const c = add();
    expect(
      winner(
        [
          [a, attrs({ origin: 2 })],
          [b, attrs({ origin: 0 })],
          [c, attrs({ origin: 1 })],
        ],
        rib,
      ),
    ).toBe(b);
  });

  it('d. lowest MED among routes from the same neighbour AS only', () => {
    const { rib, add } = ribWith();
    const a = add({ asn: 65001 });
    const b = add({ asn: 65001 });
    expect(
      winner(
        [
          [a, attrs({ med: 50 })],
          [b, attrs({ med: 10 })],
        ],
        rib,
      ),
    ).toBe(b);

    // different neighbour AS: MED not compared, falls to router id (lowest wins)
    const r2 = ribWith();
    const c = r2.add({ asn: 65001, routerId: '1.1.1.1' });
    const d = r2.add({ asn: 65002, routerId: '2.2.2.2' });
    expect(
      winner(
        [
          [c, attrs({ asPath: [seq(65001)], med: 50 })],
          [d, attrs({ asPath: [seq(65002)], med: 10 })],
        ],
        r2.rib,
      ),
    ).toBe(c);

    // always-compare-med compares across ASes
    const r3 = ribWith({ alwaysCompareMed: true });
    const e = r3.add({ asn: 65001, routerId: '1.1.1.1' });
    const f = r3.add({ asn: 65002, routerId: '2.2.2.2' });
    expect(
      winner(
        [
          [e, attrs({ asPath: [seq(65001)], med: 50 })],
          [f, attrs({ asPath: [seq(65002)], med: 10 })],
        ],
        r3.rib,
      ),
    ).toBe(f);
  });

  it('d. missing MED is 0, or worst when configured', () => {
    const { rib, add } = ribWith();
    const a = add({ routerId: '2.2.2.2' });
    const b = add({ routerId: '1.1.1.1' });
    expect(
      winner(
        [
          [a, attrs()],
          [b, attrs({ med: 5 })],
        ],
        rib,
      ),
    ).toBe(a);
    const r2 = ribWith({ medMissingAsWorst: true });
    const c = r2.add({ routerId: '2.2.2.2' });
    const d = r2.add({ routerId: '3.3.3.3' });
    expect(
      winner(
        [
          [c, attrs()],
          [d, attrs({ med: 5 })],
        ],
        r2.rib,
      ),
    ).toBe(d);
  });

  it('d. MED elimination is per neighbour AS, not pairwise (order independent)', () => {
    // A(AS1, med 10), B(AS1, med 5), C(AS2, med 0): B eliminates A; then B vs C by router id
    const routes = (rib: ReturnType<typeof ribWith>): [RibPeer, PathAttributes][] => [
      [rib.add({ asn: 1, routerId: '1.0.0.1' }), attrs({ asPath: [seq(1)], med: 10 })],
      [rib.add({ asn: 1, routerId: '1.0.0.3' }), attrs({ asPath: [seq(1)], med: 5 })],
      [rib.add({ asn: 2, routerId: '1.0.0.2' }), attrs({ asPath: [seq(2)], med: 0 })],
    ];
    const r1 = ribWith();
    const list = routes(r1);
    const fwd = winner(list, r1.rib);
    expect(fwd).toBe(list[2]![0]);
    const r2 = ribWith();
    const list2 = routes(r2).reverse();
    expect(winner(list2, r2.rib)?.routerId).toBe('1.0.0.2');
  });

  it('e. eBGP over iBGP', () => {
    const { rib, add } = ribWith();
    const a = add({ type: 'ibgp', asn: 64512, routerId: '1.1.1.1' });
    const b = add({ type: 'ebgp', asn: 65001, routerId: '9.9.9.9' });
    expect(
      winner(
        [
          [a, attrs()],
          [b, attrs()],
        ],
        rib,
      ),
    ).toBe(b);
  });

  it('f. lowest IGP cost to the next hop (injectable); unresolvable next hops are not eligible', () => {
    const costs: Record<string, number | null> = { '192.0.2.1': 20, '192.0.2.2': 10, '192.0.2.3': null };
    const { rib, add } = ribWith({ igpCost: (nh) => costs[nh ?? ''] ?? null });
    const a = add({ type: 'ibgp', asn: 64512, routerId: '1.1.1.1' });
    const b = add({ type: 'ibgp', asn: 64512, routerId: '2.2.2.2' });
    const c = add({ type: 'ibgp', asn: 64512, routerId: '0.0.0.1' });
    expect(
      winner(
        [
          [a, attrs({ nextHop: '192.0.2.1' })],
          [b, attrs({ nextHop: '192.0.2.2' })],
          [c, attrs({ nextHop: '192.0.2.3' })],
        ],
        rib,
      ),
    ).toBe(b);
    // a single candidate with an unresolvable next hop has no best route
    const r2 = ribWith({ igpCost: () => null });
    r2.rib.applyUpdate(r2.add(), attrs(), [P]);
    expect(r2.rib.best(P)).toBeUndefined();
    expect(r2.rib.size).toBe(0);
    // igpChanged re-runs the decision
    costs['192.0.2.1'] = 1;
    const changed = rib.igpChanged();
    expect(changed).toHaveLength(1);
    expect(rib.best(P)?.peer).toBe(a);
  });

  it('g. lowest router id, ORIGINATOR_ID standing in for it when present', () => {
    const { rib, add } = ribWith();
    const a = add({ routerId: '2.2.2.2' });
    const b = add({ routerId: '1.1.1.1' });
    expect(
      winner(
        [
          [a, attrs()],
          [b, attrs()],
        ],
        rib,
      ),
    ).toBe(b);
    const r2 = ribWith();
    const c = r2.add({ type: 'ibgp', asn: 64512, routerId: '1.1.1.1' });
    const d = r2.add({ type: 'ibgp', asn: 64512, routerId: '2.2.2.2' });
    expect(
      winner(
        [
          [c, attrs({ originatorId: '3.3.3.3' })],
          [d, attrs()],
        ],
        r2.rib,
      ),
    ).toBe(d);
  });

  it('h. shortest CLUSTER_LIST', () => {
    const { rib, add } = ribWith();
    const a = add({ type: 'ibgp', asn: 64512, routerId: '1.1.1.1' });
    const b = add({ type: 'ibgp', asn: 64512, routerId: '2.2.2.2' });
    expect(
      winner(
        [
          [a, attrs({ originatorId: '5.5.5.5', clusterList: ['1.0.0.1', '1.0.0.2'] })],
          [b, attrs({ originatorId: '5.5.5.5', clusterList: ['1.0.0.3'] })],
        ],
        rib,
      ),
    ).toBe(b);
  });

  it('i. lowest peer address', () => {
    const { rib, add } = ribWith();
    const a = add({ routerId: '1.1.1.1', address: '10.0.0.20' });
    const b = add({ routerId: '1.1.1.1', address: '10.0.0.3' });
    expect(
      winner(
        [
          [a, attrs()],
          [b, attrs()],
        ],
        rib,
      ),
    ).toBe(b);
  });

  it('0. locally originated routes win over learned ones', () => {
    const { rib, add } = ribWith();
    const a = add({ routerId: '1.1.1.1' });
    const l = add({ type: 'local', asn: 64512, routerId: '9.9.9.9' });
    expect(
      winner(
        [
          [a, attrs({ localPref: 500 })],
          [l, attrs({ asPath: [] })],
        ],
        rib,
      ),
    ).toBe(l);
  });
});

describe('decision process, steps in order', () => {
  it('each earlier step outranks every later one', () => {
    // route i is better at step i and worse at all later steps than route i+1
    const { rib, add } = ribWith({ igpCost: (nh) => (nh === '192.0.2.9' ? 1 : 5) });
    const ibgp = { type: 'ibgp' as const, asn: 64512 };
    const lp = add({ ...ibgp, routerId: '9.0.0.1', address: '10.0.0.99' });
    const path = add({ ...ibgp, routerId: '9.0.0.2', address: '10.0.0.98' });
    const origin = add({ ...ibgp, routerId: '9.0.0.3', address: '10.0.0.97' });
    // worst at everything but LOCAL_PREF
    rib.applyUpdate(lp, attrs({ localPref: 200, asPath: [seq(1, 2, 3, 4)], origin: 2 }), [P]);
    // equal LOCAL_PREF below lp, shortest path
    rib.applyUpdate(path, attrs({ localPref: 150, asPath: [seq(1)], origin: 2 }), [P]);
    rib.applyUpdate(origin, attrs({ localPref: 150, asPath: [seq(1, 2)], origin: 0 }), [P]);
    expect(rib.best(P)?.peer).toBe(lp);
    rib.applyUpdate(lp, null, [], [P]);
    expect(rib.best(P)?.peer).toBe(path);
    rib.applyUpdate(path, null, [], [P]);
    expect(rib.best(P)?.peer).toBe(origin);
  });

  it('LOCAL_PREF > AS_PATH > ORIGIN > MED > eBGP > IGP > router id, by removing the winner each time', () => {
    const { rib, add } = ribWith({ igpCost: (nh) => (nh === '192.0.2.5' ? 1 : 9) });
    const i = { type: 'ibgp' as const, asn: 64512 };
    const base = { localPref: 100, asPath: [seq(7, 8)], origin: 0 as const, med: 0 };
    const peers = [
      [
        add({ ...i, routerId: '9.0.0.9' }),
        attrs({ ...base, localPref: 300, asPath: [seq(7, 8, 9, 10)], origin: 2, med: 99 }),
      ],
      [add({ ...i, routerId: '9.0.0.8' }), attrs({ ...base, asPath: [seq(7)], origin: 2, med: 99 })],
      [add({ ...i, routerId: '9.0.0.7' }), attrs({ ...base, origin: 0, med: 99 })],
      [add({ ...i, routerId: '9.0.0.6' }), attrs({ ...base, origin: 1, med: 1 })],
    ] as const;
    const ebgp = add({ type: 'ebgp', asn: 7, routerId: '9.0.0.5' });
    const igpBest = add({ ...i, routerId: '9.0.0.4' });
    const rid = add({ ...i, routerId: '9.0.0.1' });
    for (const [p, a] of peers) rib.applyUpdate(p, a, [P]);
    rib.applyUpdate(ebgp, attrs({ ...base, origin: 1, med: 2 }), [P]);
    rib.applyUpdate(igpBest, attrs({ ...base, origin: 1, med: 2, nextHop: '192.0.2.5' }), [P]);
    rib.applyUpdate(rid, attrs({ ...base, origin: 1, med: 2 }), [P]);
    // expected order of winners as each is withdrawn in turn
    // after peers[2] (origin 0) goes, origin-1 routes remain: peers[3] has the lowest MED (1)
    const order = [peers[0][0], peers[1][0], peers[2][0], peers[3][0], ebgp, igpBest, rid];
    for (const p of order) {
      expect(rib.best(P)?.peer.routerId).toBe(p.routerId);
      rib.applyUpdate(p, null, [], [P]);
    }
    expect(rib.best(P)).toBeUndefined();
  });
});

describe('multipath', () => {
  it('keeps routes equal through the IGP step as a set, best first', () => {
    const { rib, add } = ribWith({ multipath: {} });
    const a = add({ asn: 65001, routerId: '1.1.1.3' });
    const b = add({ asn: 65001, routerId: '1.1.1.1' });
    const c = add({ asn: 65001, routerId: '1.1.1.2' });
    const d = add({ asn: 65001, routerId: '1.1.1.0' });
    for (const p of [a, b, c]) rib.applyUpdate(p, attrs({ asPath: [seq(65001, 5)] }), [P]);
    rib.applyUpdate(d, attrs({ asPath: [seq(65001, 5)], origin: 2 }), [P]);
    const set = rib.multipathSet(P).map((r) => r.peer);
    expect(set).toEqual([b, c, a]);
    expect(rib.best(P)?.peer).toBe(b);
  });

  it('identical AS_PATH required by default, same length with asPath: length', () => {
    const mk = (asPath: 'identical' | 'length') => {
      const { rib, add } = ribWith({ multipath: { asPath } });
      const a = add({ asn: 65001, routerId: '1.1.1.1' });
      const b = add({ asn: 65001, routerId: '1.1.1.2' });
      rib.applyUpdate(a, attrs({ asPath: [seq(65001, 5)] }), [P]);
      rib.applyUpdate(b, attrs({ asPath: [seq(65001, 6)] }), [P]);
      return rib.multipathSet(P).length;
    };
    expect(mk('identical')).toBe(1);
    expect(mk('length')).toBe(2);
  });

  it('respects maxPaths and reports set changes as changes', () => {
    const { rib, add } = ribWith({ multipath: { maxPaths: 2 } });
    const ps = [add({ routerId: '1.1.1.1' }), add({ routerId: '1.1.1.2' }), add({ routerId: '1.1.1.3' })];
    rib.applyUpdate(ps[0]!, attrs(), [P]);
    expect(rib.applyUpdate(ps[1]!, attrs(), [P])).toHaveLength(1); // joins the set
    expect(rib.applyUpdate(ps[2]!, attrs(), [P])).toHaveLength(0); // third path, beyond maxPaths
    expect(rib.multipathSet(P).map((r) => r.peer)).toEqual([ps[0], ps[1]]);
    expect(rib.applyUpdate(ps[1]!, null, [], [P])).toHaveLength(1);
    expect(rib.multipathSet(P).map((r) => r.peer)).toEqual([ps[0], ps[2]]);
  });

  it('is off by default', () => {
    const { rib, add } = ribWith();
    rib.applyUpdate(add(), attrs(), [P]);
    rib.applyUpdate(add(), attrs(), [P]);
    expect(rib.multipathSet(P)).toHaveLength(1);
  });
});
