import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AdjRibOut, type Exporter, LocRib, type PrefixKey, v4Key } from '../../src/rib/index.js';
import type { PathAttributes } from '../../src/wire/types.js';

/** Attributes with the AS path as a plain list (wrapped into one AS_SEQUENCE when offered). */
type RawAttrs = Omit<PathAttributes, 'asPath'> & { asPath: number[] };

interface Offer {
  peer: number;
  prefix: number;
  attrs: RawAttrs;
}

const PEERS = 5;
const peerAs = [64512, 64512, 65001, 65001, 65002];

const offerArb: fc.Arbitrary<Offer> = fc.record({
  peer: fc.integer({ min: 0, max: PEERS - 1 }),
  prefix: fc.integer({ min: 0, max: 7 }),
  attrs: fc.record(
    {
      origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
      localPref: fc.constantFrom(100, 200),
      med: fc.integer({ min: 0, max: 3 }),
      asPath: fc.array(fc.constantFrom(1, 2, 3), { maxLength: 3 }),
      originatorId: fc.constantFrom('1.1.1.1', '9.9.9.9'),
      clusterList: fc.array(fc.constantFrom('5.5.5.5', '6.6.6.6'), { maxLength: 2 }),
      nextHop: fc.constantFrom('192.0.2.1', '192.0.2.2'),
    },
    { requiredKeys: ['origin', 'asPath', 'nextHop'] },
  ),
});

function build(offers: Offer[], multipath: boolean): { rib: LocRib; out: AdjRibOut } {
  const rib = new LocRib({
    multipath: multipath ? { asPath: 'length' } : false,
    igpCost: (nh) => (nh === '192.0.2.1' ? 1 : 2),
  });
  const peers = Array.from({ length: PEERS }, (_, i) =>
    rib.addPeer({
      name: `p${i}`,
      address: `10.0.0.${10 - i}`,
      routerId: `10.0.1.${(i * 7) % 5}`,
      asn: peerAs[i]!,
      type: peerAs[i] === 64512 ? 'ibgp' : 'ebgp',
    }),
  );
  const sink = rib.addPeer({ name: 'sink', address: '10.0.0.99', routerId: '10.0.0.99', asn: 65099, type: 'ebgp' });
  const pass: Exporter = { prefixDependent: false, exportRoute: (_f, s) => s.attrs };
  const out = new AdjRibOut(rib, sink, pass);
  for (const o of offers) {
    const ownAs = peerAs[o.peer]!;
    const path = ownAs === 64512 ? o.attrs.asPath : [ownAs, ...o.attrs.asPath];
    const attrs: PathAttributes = { ...o.attrs, asPath: [{ type: 2, asns: path }] };
    rib.applyUpdate(peers[o.peer]!, attrs, [v4Key(0x0a000000 + o.prefix * 256, 24)]);
  }
  return { rib, out };
}

function summary(rib: LocRib): string[] {
  const out: string[] = [];
  for (let p = 0; p < 8; p++) {
    const key: PrefixKey = v4Key(0x0a000000 + p * 256, 24);
    out.push(
      `${p}:${rib
        .multipathSet(key)
        .map((r) => `${r.peer.name}/${r.attrSet.key}`)
        .join('|')}`,
    );
  }
  return out;
}

describe('properties', () => {
  it('best path and multipath set do not depend on arrival order (final state per peer equal)', () => {
    fc.assert(
      fc.property(fc.array(offerArb, { maxLength: 25 }), fc.boolean(), fc.integer(), (offers, mp, seed) => {
        // the last offer per (peer, prefix) is what stays; shuffle while keeping that one last
        const last = new Map<string, Offer>();
        for (const o of offers) last.set(`${o.peer}/${o.prefix}`, o);
        const finals = [...last.values()];
        let s = seed >>> 0;
        const shuffled = [...finals];
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          const j = s % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const a = build(offers, mp).rib;
        const b = build(shuffled, mp).rib;
        expect(summary(b)).toEqual(summary(a));
      }),
      { numRuns: 300 },
    );
  });

  it('the best route is never beaten by another candidate under a pairwise check of the first steps', () => {
    fc.assert(
      fc.property(fc.array(offerArb, { maxLength: 25 }), (offers) => {
        const { rib } = build(offers, false);
        for (let p = 0; p < 8; p++) {
          const key = v4Key(0x0a000000 + p * 256, 24);
          const best = rib.best(key);
          const cands = rib.candidates(key);
          if (cands.length === 0) {
            expect(best).toBeUndefined();
            continue;
          }
          expect(best).toBeDefined();
          const lp = (r: typeof best) => r!.attrSet.attrs.localPref ?? 100;
          for (const c of cands) {
            expect(lp(best)).toBeGreaterThanOrEqual(lp(c));
            if (lp(c) === lp(best)) expect(best!.attrSet.asPathLength).toBeLessThanOrEqual(c.attrSet.asPathLength);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the Adj-RIB-Out converges to the Loc-RIB whatever the flush points, and leaks nothing', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            offerArb,
            fc.record({ withdraw: fc.integer({ min: 0, max: 7 }), peer: fc.integer({ min: 0, max: 4 }) }),
          ),
          {
            maxLength: 30,
          },
        ),
        fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
        (ops, flushes) => {
          const { rib, out } = build([], false);
          const sent = new Map<PrefixKey, string>();
          const apply = () => {
            for (const b of out.takeBatches()) {
              for (const w of b.withdrawn) {
                expect(sent.has(w)).toBe(true);
                sent.delete(w);
              }
              for (const a of b.announced) {
                expect(sent.get(a)).not.toBe(b.attrSet!.key);
                sent.set(a, b.attrSet!.key);
              }
            }
          };
          ops.forEach((op, i) => {
            const peer = rib.peer(op.peer)!;
            if ('withdraw' in op) rib.applyUpdate(peer, null, [], [v4Key(0x0a000000 + op.withdraw * 256, 24)]);
            else
              rib.applyUpdate(peer, { ...op.attrs, asPath: [{ type: 2, asns: [peerAs[op.peer]!, 1] }] }, [
                v4Key(0x0a000000 + op.prefix * 256, 24),
              ]);
            if (flushes[i]) apply();
          });
          apply();
          const want = new Map<PrefixKey, string>();
          for (const r of rib.bestRoutes()) want.set(r.key, r.attrSet.key);
          expect(sent).toEqual(want);
          // tear down: nothing may remain interned
          out.close();
          for (const p of rib.allPeers()) rib.removePeer(p);
          expect(rib.registry.size).toBe(0);
          expect(rib.prefixes.size).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
