import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createExporter, type LocalSpeaker } from '../../src/policy/index.js';
import {
  AdjRibIn,
  AdjRibOut,
  AttrSetRegistry,
  type Exporter,
  formatPrefixKey,
  keyToPrefix,
  PrefixIndex,
  parsePrefixKey,
  prefixKey,
  v4Key,
  v4KeyAddr,
} from '../../src/rib/index.js';
import { allocInt32, allocUint8, growInt32, growUint8 } from '../../src/rib/prefix-index.js';
import { attrs, k, ribWith, seq } from './helpers.js';

const local: LocalSpeaker = { asn: 64512, routerId: '10.0.0.1' };
const passThrough: Exporter = { prefixDependent: false, exportRoute: (_f, s) => s.attrs };

function v4Keys(n: number, base = 0x0a000000): number[] {
  return Array.from({ length: n }, (_, i) => v4Key(base + i * 256, 24));
}

describe('prefix keys', () => {
  it('round-trip IPv4 and IPv6 text, and reject host bits', () => {
    for (const t of [
      '0.0.0.0/0',
      '10.0.0.0/8',
      '192.0.2.128/25',
      '255.255.255.255/32',
      '2001:db8::/32',
      '::/0',
      '2001:db8:0:1::/64',
      'fe80::1/128',
    ]) {
      expect(formatPrefixKey(parsePrefixKey(t))).toBe(t);
      expect(prefixKey(keyToPrefix(parsePrefixKey(t)))).toBe(parsePrefixKey(t));
    }
    expect(() => parsePrefixKey('10.0.0.1/8')).toThrow(/host bits/);
    expect(parsePrefixKey('10.0.0.1/8', true)).toBe(parsePrefixKey('10.0.0.0/8'));
    expect(() => parsePrefixKey('2001:db8::1/32')).toThrow(/host bits/);
    expect(() => parsePrefixKey('10.0.0.0/33')).toThrow(/above 32/);
    expect(typeof parsePrefixKey('10.0.0.0/8')).toBe('number');
    expect(typeof parsePrefixKey('2001:db8::/32')).toBe('string');
  });

  it('PrefixIndex agrees with a Map under random inserts and releases', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 })), { maxLength: 600 }), (ops) => {
        const idx = new PrefixIndex(16);
        const model = new Map<number, number>();
        const refs = new Map<number, number>();
        for (const [add, i] of ops) {
          const key = v4Key(i * 4096, 20 + (i % 5));
          if (add) {
            const s = idx.intern(key);
            idx.ref(s);
            if (model.has(key)) expect(s).toBe(model.get(key));
            model.set(key, s);
            refs.set(key, (refs.get(key) ?? 0) + 1);
          } else if (model.has(key)) {
            // a key interned twice holds two references: it goes with the last one
            idx.unref(model.get(key)!);
            const r = refs.get(key)! - 1;
            refs.set(key, r);
            if (r === 0) model.delete(key);
          }
        }
        expect(idx.size).toBe(model.size);
        for (const [key, s] of model) {
          expect(idx.find(key)).toBe(s);
          expect(idx.keyOf(s)).toBe(key);
        }
        for (let i = 0; i <= 300; i++) {
          const key = v4Key(i * 4096, 20 + (i % 5));
          if (!model.has(key)) expect(idx.find(key)).toBe(-1);
        }
      }),
    );
  });
});

describe('Adj-RIB-In and Loc-RIB', () => {
  it('shares one attribute set across prefixes and peers, and releases it', () => {
    const { rib, add } = ribWith();
    const a = add();
    const b = add();
    rib.applyUpdate(a, attrs(), v4Keys(100));
    rib.applyUpdate(b, attrs(), v4Keys(100));
    expect(rib.registry.size).toBe(1);
    expect([...rib.registry.values()][0]!.refs).toBe(200);
    expect(rib.routeCount).toBe(200);
    rib.removePeer(a);
    rib.applyUpdate(b, null, [], v4Keys(100));
    expect(rib.registry.size).toBe(0);
    expect(rib.prefixes.size).toBe(0);
    expect(rib.size).toBe(0);
  });

  it('replaces a peer route on re-announce and reports the change', () => {
    const { rib, add } = ribWith();
    const a = add();
    const [p] = v4Keys(1);
    rib.applyUpdate(a, attrs({ med: 1 }), [p!]);
    expect(rib.applyUpdate(a, attrs({ med: 1 }), [p!])).toHaveLength(0);
    expect(rib.applyUpdate(a, attrs({ med: 2 }), [p!])).toHaveLength(1);
    expect(rib.best(p!)?.attrSet.attrs.med).toBe(2);
    expect(rib.candidates(p!)).toHaveLength(1);
    expect(rib.registry.size).toBe(1);
  });

  it('removePeer withdraws everything and fails over to the next best', () => {
    const { rib, add } = ribWith();
    const a = add({ routerId: '1.1.1.1' });
    const b = add({ routerId: '2.2.2.2' });
    const keys = v4Keys(10);
    rib.applyUpdate(a, attrs(), keys);
    rib.applyUpdate(b, attrs(), keys.slice(0, 5));
    const seen: number[] = [];
    rib.onChange((s) => seen.push(...s));
    const changed = rib.removePeer(a);
    expect(changed).toHaveLength(10);
    expect(seen).toHaveLength(10);
    expect(rib.size).toBe(5);
    for (const key of keys.slice(0, 5)) expect(rib.best(key)?.peer).toBe(b);
    expect(() => rib.applyUpdate(a, attrs(), keys)).toThrow(/not a peer/);
  });

  it('AdjRibIn applies the importer per attribute set, or per prefix when prefix-dependent', () => {
    const { rib, add } = ribWith();
    const a = add();
    let calls = 0;
    const inA = new AdjRibIn(rib, a, {
      prefixDependent: false,
      importRoute: (x) => {
        calls++;
        return { ...x, localPref: 42 };
      },
    });
    inA.update(attrs(), v4Keys(50));
    expect(calls).toBe(1);
    expect(rib.best(v4Keys(1)[0]!)?.attrSet.attrs.localPref).toBe(42);
    // prefix-dependent: rejects odd prefixes, withdrawing earlier accepted versions
    inA.importer = {
      prefixDependent: true,
      importRoute: (x, key) => ((v4KeyAddr(key as number) >>> 8) & 1 ? null : x),
    };
    inA.update(attrs(), v4Keys(50));
    expect(inA.size).toBe(25);
  });
});

describe('Adj-RIB-Out', () => {
  function setup(exporter: Exporter = passThrough) {
    const { rib, add } = ribWith();
    const from = add();
    const to = add();
    const out = new AdjRibOut(rib, to, exporter);
    return { rib, from, to, out, add };
  }

  it('packs N prefixes with 3 attribute sets into 3 batches', () => {
    const { rib, from, out } = setup();
    const keys = v4Keys(3000);
    for (let i = 0; i < 3000; i += 10) rib.applyUpdate(from, attrs({ med: (i / 10) % 3 }), keys.slice(i, i + 10));
    const batches = out.takeBatches();
    expect(batches).toHaveLength(3);
    expect(batches.map((b) => b.announced.length)).toEqual([1000, 1000, 1000]);
    expect(new Set(batches.map((b) => b.attrSet?.attrs.med))).toEqual(new Set([0, 1, 2]));
    expect(out.size).toBe(3000);
    expect(out.takeBatches()).toEqual([]);
    // withdrawals are packed together too
    rib.applyUpdate(from, null, [], keys.slice(0, 1500));
    const w = out.takeBatches();
    expect(w).toHaveLength(1);
    expect(w[0]!.attrSet).toBeNull();
    expect(w[0]!.withdrawn).toHaveLength(1500);
    expect(out.size).toBe(1500);
  });

  it('separates families and splits at maxPrefixesPerBatch', () => {
    const { rib, add } = ribWith();
    const from = add();
    const to = add();
    const out = new AdjRibOut(rib, to, passThrough, { maxPrefixesPerBatch: 40 });
    rib.applyUpdate(from, attrs(), [...v4Keys(100), k('2001:db8::/32'), k('2001:db8:1::/48')]);
    const b = out.takeBatches();
    expect(b.filter((x) => x.family === 'ipv4-unicast').map((x) => x.announced.length)).toEqual([40, 40, 20]);
    expect(b.filter((x) => x.family === 'ipv6-unicast').map((x) => x.announced)).toEqual([
      [k('2001:db8::/32'), k('2001:db8:1::/48')],
    ]);
    const v4only = new AdjRibOut(rib, add(), passThrough, { families: ['ipv4-unicast'] });
    v4only.markAll();
    expect(v4only.takeBatches().every((x) => x.family === 'ipv4-unicast')).toBe(true);
  });

  it('coalesces: announce then withdraw before a flush sends nothing; flaps send the last state only', () => {
    const { rib, from, out } = setup();
    const [p, q] = v4Keys(2);
    rib.applyUpdate(from, attrs(), [p!]);
    rib.applyUpdate(from, null, [], [p!]);
    expect(out.takeBatches()).toEqual([]);
    expect(rib.prefixes.size).toBe(0); // nothing left behind
    rib.applyUpdate(from, attrs({ med: 1 }), [q!]);
    out.takeBatches();
    rib.applyUpdate(from, attrs({ med: 2 }), [q!]);
    rib.applyUpdate(from, attrs({ med: 3 }), [q!]);
    rib.applyUpdate(from, attrs({ med: 1 }), [q!]);
    expect(out.takeBatches()).toEqual([]); // back to what was sent
    rib.applyUpdate(from, attrs({ med: 4 }), [q!]);
    const b = out.takeBatches();
    expect(b).toHaveLength(1);
    expect(b[0]!.attrSet?.attrs.med).toBe(4);
  });

  it('never sends a route back to the peer it came from, and withdraws when that peer takes over', () => {
    const { rib, from, to, out } = setup();
    const [p] = v4Keys(1);
    rib.applyUpdate(from, attrs(), [p!]);
    expect(out.takeBatches()[0]!.announced).toEqual([p]);
    rib.applyUpdate(to, attrs({ localPref: 500 }), [p!]);
    const b = out.takeBatches();
    expect(b[0]!.withdrawn).toEqual([p]);
  });

  it('shares the exported attribute set across prefixes (one export call per set and source peer)', () => {
    let calls = 0;
    const { rib, from, out } = setup({
      prefixDependent: false,
      exportRoute: (_f, s) => {
        calls++;
        return { ...s.attrs, med: 7 };
      },
    });
    rib.applyUpdate(from, attrs(), v4Keys(500));
    const b = out.takeBatches();
    expect(calls).toBe(1);
    expect(b).toHaveLength(1);
    expect(rib.registry.size).toBe(2);
  });

  it('a queue of only IPv4 withdrawals goes out in one exact-size batch and frees every slot; mixed queues after it still work', () => {
    const { rib, from, out } = setup();
    const keys = v4Keys(3000);
    rib.applyUpdate(from, attrs(), keys);
    out.takeBatches();
    expect(out.size).toBe(3000);
    rib.applyUpdate(from, null, [], keys);
    const w = out.takeBatches();
    expect(w).toEqual([{ family: 'ipv4-unicast', attrSet: null, announced: [], withdrawn: keys }]);
    expect(w[0]!.withdrawn.length).toBe(3000);
    expect(out.size).toBe(0);
    expect(out.pendingCount).toBe(0);
    expect(rib.prefixes.size).toBe(0);
    expect(rib.registry.size).toBe(0);
    // then a queue mixing announcements, withdrawals and a prefix withdrawn and re-announced
    // before the flush (nothing to send for it)
    rib.applyUpdate(from, attrs(), keys.slice(0, 3));
    out.takeBatches();
    rib.applyUpdate(from, null, [], keys.slice(0, 2));
    rib.applyUpdate(from, attrs(), [keys[0]!, keys[5]!]);
    const m = out.takeBatches();
    expect(m).toHaveLength(2);
    expect(m[0]!.withdrawn).toEqual([keys[1]]);
    expect(m[1]!.announced).toEqual([keys[5]]);
    expect(out.size).toBe(3);
    expect(rib.prefixes.find(keys[1]!)).toBe(-1);
    expect(rib.prefixes.find(keys[0]!)).toBeGreaterThanOrEqual(0);
  });

  it('setExporter re-evaluates and sends only the difference; reset and close release everything', () => {
    const { rib, from, out } = setup();
    const keys = v4Keys(10);
    rib.applyUpdate(from, attrs(), keys);
    out.takeBatches();
    out.setExporter({ prefixDependent: true, exportRoute: (_f, s, key) => (key === keys[0] ? null : s.attrs) });
    const b = out.takeBatches();
    expect(b).toEqual([{ family: 'ipv4-unicast', attrSet: null, announced: [], withdrawn: [keys[0]] }]);
    out.close();
    expect(out.size).toBe(0);
    rib.applyUpdate(from, null, [], keys);
    expect(rib.registry.size).toBe(0);
    expect(rib.prefixes.size).toBe(0);
  });

  it('markAll queues the whole table for a new session', () => {
    const { rib, add } = ribWith();
    const from = add();
    rib.applyUpdate(from, attrs(), v4Keys(20));
    const out = new AdjRibOut(rib, add(), passThrough);
    expect(out.takeBatches()).toEqual([]);
    out.markAll();
    expect(out.takeBatches()[0]!.announced).toHaveLength(20);
  });

  it('with the standard exporter, routes are shared per attribute set and rewritten for eBGP', () => {
    const { rib, add } = ribWith();
    const from = add({ asn: 65001 });
    const to = add({ asn: 65002 });
    const out = new AdjRibOut(rib, to, createExporter({ local, peer: to, localAddress: '198.51.100.2' }));
    rib.applyUpdate(from, attrs({ asPath: [seq(65001)], localPref: 100, med: 5 }), v4Keys(10));
    const [b] = out.takeBatches();
    expect(b!.announced).toHaveLength(10);
    expect(b!.attrSet!.attrs).toEqual({ origin: 0, asPath: [seq(64512, 65001)], nextHop: '198.51.100.2' });
  });
});

describe('graceful restart', () => {
  it('marks stale, refreshes re-announced routes, sweeps the rest', () => {
    const { rib, add } = ribWith();
    const a = add();
    const keys = v4Keys(10);
    rib.applyUpdate(a, attrs(), keys);
    expect(rib.markStale(a)).toBe(10);
    expect(a.staleCount).toBe(10);
    expect(rib.best(keys[0]!)?.stale).toBe(true);
    // same attributes: fresh again, no best-route change
    expect(rib.applyUpdate(a, attrs(), keys.slice(0, 3))).toHaveLength(0);
    // changed attributes: fresh and changed
    expect(rib.applyUpdate(a, attrs({ med: 9 }), keys.slice(3, 4))).toHaveLength(1);
    expect(a.staleCount).toBe(6);
    expect(rib.best(keys[0]!)?.stale).toBe(false);
    const swept = rib.sweepStale(a);
    expect(swept).toHaveLength(6);
    expect(rib.size).toBe(4);
    for (const key of keys.slice(4)) expect(rib.best(key)).toBeUndefined();
    expect(a.staleCount).toBe(0);
    expect([...rib.routesOf(a)].map((r) => r.key).sort()).toEqual(keys.slice(0, 4).sort());
  });

  it('stale routes keep forwarding and lose to nothing they would not lose to otherwise; sweep fails over', () => {
    const { rib, add } = ribWith();
    const a = add({ routerId: '1.1.1.1' });
    const b = add({ routerId: '2.2.2.2' });
    const [p] = v4Keys(1);
    rib.applyUpdate(a, attrs(), [p!]);
    rib.applyUpdate(b, attrs(), [p!]);
    rib.markStale(a);
    expect(rib.best(p!)?.peer).toBe(a);
    const ribOut = new AdjRibIn(rib, a);
    expect(ribOut.sweepStale()).toHaveLength(1);
    expect(rib.best(p!)?.peer).toBe(b);
  });
});

describe('AttrSetRegistry (hashed canonical bytes, fields by id)', () => {
  it('interns equal attributes to one set, tells different ones apart, and reads the decision fields', () => {
    const reg = new AttrSetRegistry();
    const a = reg.intern(attrs({ med: 5, communities: [1, 2] }));
    const b = reg.intern(attrs({ med: 5, communities: [1, 2] }));
    expect(b).toBe(a);
    expect(a.refs).toBe(2);
    const variants = [
      attrs({ med: 5, communities: [2, 1] }),
      attrs({ med: 6, communities: [1, 2] }),
      attrs({ med: 5, communities: [1, 2], localPref: 200 }),
      attrs({ med: 5, communities: [1, 2], extendedCommunities: [Uint8Array.of(0, 2, 0, 1, 0, 0, 0, 1)] }),
      attrs({ med: 5, communities: [1, 2], unknown: [{ code: 99, flags: 0xc0, value: Uint8Array.of(1) }] }),
      attrs({ med: 5, communities: [1, 2], nextHop: '192.0.2.11' }),
    ];
    const ids = new Set(variants.map((v) => reg.intern(v).id));
    expect(ids.size).toBe(variants.length);
    expect(ids.has(a.id)).toBe(false);
    const big = reg.intern({
      asPath: [seq(4200000001, 65001)],
      localPref: 4294967295,
      med: 0,
      originatorId: '10.0.0.9',
      clusterList: ['1.1.1.1'],
    });
    expect([big.neighborAs, big.localPref, big.med, big.originatorId, big.clusterListLength, big.asPathLength]).toEqual(
      [4200000001, 4294967295, 0, 0x0a000009, 1, 2],
    );
    expect([a.localPref, a.originatorId, a.origin, a.med]).toEqual([-1, -1, 0, 5]);
    expect(reg.lookup(attrs({ med: 5, communities: [1, 2] }))).toBe(a);
    // an empty list is no attribute (as on the wire); an empty AS_PATH is one
    const e = reg.intern({ origin: 0, asPath: [], communities: [], largeCommunities: [], clusterList: [] });
    expect(reg.intern({ origin: 0, asPath: [] })).toBe(e);
    expect(reg.intern({ origin: 0 })).not.toBe(e);
  });

  it('stays exact through growth, releases, id reuse and arena compaction', () => {
    const reg = new AttrSetRegistry();
    const live = new Map<number, ReturnType<AttrSetRegistry['intern']>>();
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3000; i++) {
        const v = round * 1000 + i;
        if (!live.has(v)) live.set(v, reg.intern(attrs({ med: v, asPath: [seq(65001, v)] })));
      }
      for (const [v, set] of live) {
        if (v % 3 !== round % 3) continue;
        reg.release(set);
        live.delete(v);
      }
      expect(reg.size).toBe(live.size);
      for (const [v, set] of live) {
        expect(reg.lookup(attrs({ med: v, asPath: [seq(65001, v)] }))).toBe(set);
        expect(set.med).toBe(v);
        expect(reg.get(set.id)).toBe(set);
      }
    }
    for (const set of live.values()) reg.release(set);
    expect(reg.size).toBe(0);
    expect(() => reg.release(reg.intern(attrs(), 0), 1)).toThrow(/released more often/);
  });
});

describe('PrefixIndex under churn', () => {
  it('finds every live key through runs of adjacent prefixes, deletions and rebuilds', () => {
    const idx = new PrefixIndex(16);
    const live = new Map<number, number>();
    // adjacent /24s, /32s and nested /25s (runs share buckets), then churn
    const keys: number[] = [];
    for (let i = 0; i < 4000; i++) keys.push(v4Key(0x14000000 + i * 256, 24));
    for (let i = 0; i < 2000; i++) keys.push(v4Key(0x0a000000 + i, 32));
    for (let i = 0; i < 1000; i++) keys.push(v4Key(0x30000000 + i * 256, 25), v4Key(0x30000080 + i * 256, 25));
    // addresses with the top bit set (negative as int32), and the extremes
    for (let i = 0; i < 1000; i++) keys.push(v4Key(0xc6336400 + i * 256, 24), v4Key(0xfffff000 + i * 4, 30));
    keys.push(v4Key(0, 0), v4Key(0x80000000, 1), v4Key(0xffffffff, 32));
    let x = 12345;
    const rnd = () => {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      return x;
    };
    for (let round = 0; round < 6; round++) {
      for (const k of keys) {
        if (rnd() % 3 === 0) continue;
        if (!live.has(k)) {
          const s = idx.intern(k);
          idx.ref(s);
          live.set(k, s);
        }
      }
      for (const k of keys) {
        if (live.has(k) && rnd() % 4 !== 0) {
          idx.unref(live.get(k)!);
          live.delete(k);
        }
      }
      expect(idx.size).toBe(live.size);
      for (const k of keys) expect(idx.find(k)).toBe(live.get(k) ?? -1);
      for (const [k, s] of live) expect(idx.keyOf(s)).toBe(k);
    }
  });
});

describe('change events and slot lifetime', () => {
  it('a listener can name a prefix whose last route went away (slot released after the event)', () => {
    const { rib, add } = ribWith();
    const a = add();
    const named: (string | null)[][] = [];
    rib.onChange((slots) => named.push(slots.map((s) => (rib.bestAt(s) ? 'best' : formatPrefixKey(rib.keyOf(s))))));
    rib.applyUpdate(a, attrs(), [k('10.1.0.0/24'), k('2001:db8:1::/48')]);
    rib.applyUpdate(a, null, [], [k('10.1.0.0/24'), k('2001:db8:1::/48')]);
    expect(named).toEqual([
      ['best', 'best'],
      ['10.1.0.0/24', '2001:db8:1::/48'],
    ]);
    // released once the event is over
    expect(rib.slotOf(k('10.1.0.0/24'))).toBe(-1);
    expect(rib.prefixes.size).toBe(0);
    // the same through a peer-wide withdrawal
    rib.applyUpdate(a, attrs(), [k('10.2.0.0/24')]);
    rib.removePeer(a);
    expect(named.at(-1)).toEqual(['10.2.0.0/24']);
    expect(rib.prefixes.size).toBe(0);
  });

  it('withdraw and re-announce of one prefix in one update keeps its slot alive', () => {
    const { rib, add } = ribWith();
    const a = add();
    rib.applyUpdate(a, attrs(), [k('10.1.0.0/24')]);
    rib.applyUpdate(a, attrs({ med: 5 }), [k('10.1.0.0/24')], [k('10.1.0.0/24')]);
    expect(rib.best(k('10.1.0.0/24'))?.attrSet.med).toBe(5);
    expect(rib.prefixes.refCount(rib.slotOf(k('10.1.0.0/24')))).toBe(1);
  });

  it('split horizon: an Adj-RIB-Out never queues the routes its own peer sent', () => {
    const { rib, add } = ribWith();
    const a = add();
    const b = add();
    const outA = new AdjRibOut(rib, a, passThrough);
    const outB = new AdjRibOut(rib, b, passThrough);
    rib.applyUpdate(a, attrs(), v4Keys(100));
    expect(outA.pendingCount).toBe(0);
    expect(outB.pendingCount).toBe(100);
    expect(outB.takeBatches().reduce((n, x) => n + x.announced.length, 0)).toBe(100);
    // b's better route replaces a's: a now gets it, b does not get its own back
    rib.applyUpdate(b, attrs({ asPath: [] }), v4Keys(10));
    expect(outA.pendingCount).toBe(10);
    expect(outB.pendingCount).toBe(10); // b had a's route advertised: it is withdrawn
    const wd = outB.takeBatches();
    expect(wd.reduce((n, x) => n + x.withdrawn.length, 0)).toBe(10);
    expect(outA.takeBatches().reduce((n, x) => n + x.announced.length, 0)).toBe(10);
    rib.applyUpdate(a, null, [], v4Keys(100));
    // the 90 prefixes only a had are gone: b withdraws them, a has nothing to look at
    expect(outA.pendingCount).toBe(0);
    expect(outB.takeBatches().reduce((n, x) => n + x.withdrawn.length, 0)).toBe(90);
    outA.close();
    outB.close();
  });
});

describe('growable typed arrays', () => {
  it('grow keeping contents and filling the new tail', () => {
    const a = allocInt32(4, -1);
    a[1] = 7;
    const b = growInt32(a, 16, -1);
    expect(b.length).toBe(16);
    expect(b[1]).toBe(7);
    expect(b[3]).toBe(-1);
    expect(b[15]).toBe(-1);
    const u = growUint8(allocUint8(2, 255), 8, 255);
    expect(Array.from(u)).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
  });

  it('a table load from a small RIB (arrays grown in place and by copy) keeps every prefix, then frees them', () => {
    const { rib, add } = ribWith({ initialCapacity: 16 });
    const from = add();
    const to = add();
    const out = new AdjRibOut(rib, to, passThrough);
    const keys = v4Keys(200_000);
    for (let i = 0; i < keys.length; i += 1000)
      rib.applyUpdate(from, attrs({ med: (i / 1000) % 2 }), keys.slice(i, i + 1000));
    expect(rib.size).toBe(200_000);
    const batches = out.takeBatches();
    expect(batches.reduce((n, b) => n + b.announced.length, 0)).toBe(200_000);
    for (const i of [0, 65_535, 65_536, 199_999])
      expect(rib.best(keys[i]!)?.attrSet.attrs.med).toBe(Math.floor(i / 1000) % 2);
    for (let i = 0; i < keys.length; i += 1000) rib.applyUpdate(from, null, [], keys.slice(i, i + 1000));
    const w = out.takeBatches();
    expect(w.reduce((n, b) => n + b.withdrawn.length, 0)).toBe(200_000);
    expect(rib.prefixes.size).toBe(0);
    expect(out.size).toBe(0);
  });
});
