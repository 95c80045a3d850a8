import { describe, expect, it } from 'vitest';
import { compilePolicy, type PolicyConfig, PolicyConfigError } from '../../src/policy/index.js';
import { parsePrefixKey } from '../../src/rib/index.js';
import type { PathAttributes } from '../../src/wire/types.js';

const base: PathAttributes = {
  origin: 0,
  asPath: [{ type: 2, asns: [65001, 65002, 65003] }],
  nextHop: '192.0.2.1',
  communities: [((65000 << 16) | 100) >>> 0],
  largeCommunities: [{ global: 65000, local1: 1, local2: 2 }],
};

function accepts(config: PolicyConfig, prefix = '10.1.0.0/16', attrs: PathAttributes = base): boolean {
  // a single matching term accepts; the default rejects
  return compilePolicy({ ...config, default: 'reject' }).evaluate({ key: parsePrefixKey(prefix), attrs }).accepted;
}

const match = (
  m: PolicyConfig['terms'] extends readonly (infer T)[] | undefined
    ? T extends { match?: infer M }
      ? M
      : never
    : never,
) => ({ terms: [{ match: m, action: 'accept' }] }) as PolicyConfig;

function changed(set: object, attrs: PathAttributes = base): PathAttributes {
  const r = compilePolicy({ terms: [{ set, action: 'accept' }] } as PolicyConfig, { localAs: 64512 }).evaluate(
    { key: parsePrefixKey('10.0.0.0/8'), attrs },
    { selfNextHop: '198.51.100.2' },
  );
  if (!r.accepted) throw new Error('rejected');
  return r.attrs;
}

describe('policy matches', () => {
  it('prefix list: exact, ge, le, ge+le', () => {
    expect(accepts(match({ prefixList: [{ prefix: '10.1.0.0/16' }] }))).toBe(true);
    expect(accepts(match({ prefixList: [{ prefix: '10.0.0.0/8' }] }))).toBe(false);
    expect(accepts(match({ prefixList: [{ prefix: '10.0.0.0/8', le: 16 }] }))).toBe(true);
    expect(accepts(match({ prefixList: [{ prefix: '10.0.0.0/8', le: 15 }] }))).toBe(false);
    expect(accepts(match({ prefixList: [{ prefix: '10.0.0.0/8', ge: 17 }] }))).toBe(false);
    expect(accepts(match({ prefixList: [{ prefix: '10.0.0.0/8', ge: 16 }] }))).toBe(true);
    expect(accepts(match({ prefixList: [{ prefix: '10.0.0.0/8', ge: 12, le: 20 }] }))).toBe(true);
    expect(accepts(match({ prefixList: [{ prefix: '11.0.0.0/8', le: 32 }] }))).toBe(false);
    expect(accepts(match({ prefixList: [{ prefix: '11.0.0.0/8' }, { prefix: '10.1.0.0/16' }] }))).toBe(true);
    expect(accepts(match({ prefixList: [{ prefix: '2001:db8::/32', le: 48 }] }), '2001:db8:1::/48')).toBe(true);
    expect(accepts(match({ prefixList: [{ prefix: '2001:db8::/32', le: 48 }] }), '2001:db9::/48')).toBe(false);
    expect(accepts(match({ prefixList: [{ prefix: '0.0.0.0/0', le: 32 }] }), '2001:db8::/48')).toBe(false);
    expect(compilePolicy(match({ prefixList: [{ prefix: '10.0.0.0/8' }] })).prefixDependent).toBe(true);
    expect(compilePolicy(match({ communities: { any: ['1:1'] } })).prefixDependent).toBe(false);
  });

  it('family', () => {
    expect(accepts(match({ family: 'ipv4-unicast' }))).toBe(true);
    expect(accepts(match({ family: 'ipv6-unicast' }))).toBe(false);
  });

  it('communities any / all, by value and well-known name', () => {
    expect(accepts(match({ communities: { any: ['65000:100', '1:1'] } }))).toBe(true);
    expect(accepts(match({ communities: { any: ['1:1'] } }))).toBe(false);
    expect(accepts(match({ communities: { all: ['65000:100', '1:1'] } }))).toBe(false);
    expect(accepts(match({ communities: { all: ['65000:100'] } }))).toBe(true);
    expect(
      accepts(match({ communities: { any: ['no-export'] } }), undefined, { ...base, communities: [0xffffff01] }),
    ).toBe(true);
    expect(accepts(match({ communities: { any: [((65000 << 16) | 100) >>> 0] } }))).toBe(true);
  });

  it('large communities any / all', () => {
    expect(accepts(match({ largeCommunities: { any: ['65000:1:2'] } }))).toBe(true);
    expect(accepts(match({ largeCommunities: { any: ['65000:1:3'] } }))).toBe(false);
    expect(accepts(match({ largeCommunities: { all: ['65000:1:2', '65000:1:3'] } }))).toBe(false);
  });

  it('AS path: contains, origin, neighbour, length, regex', () => {
    expect(accepts(match({ asPath: { contains: [65002] } }))).toBe(true);
    expect(accepts(match({ asPath: { contains: [65009] } }))).toBe(false);
    expect(accepts(match({ asPath: { originAs: [65003] } }))).toBe(true);
    expect(accepts(match({ asPath: { originAs: [65001] } }))).toBe(false);
    expect(accepts(match({ asPath: { neighborAs: [65001] } }))).toBe(true);
    expect(accepts(match({ asPath: { length: { min: 3, max: 3 } } }))).toBe(true);
    expect(accepts(match({ asPath: { length: { max: 2 } } }))).toBe(false);
    expect(accepts(match({ asPath: { regex: '^65001_' } }))).toBe(true);
    expect(accepts(match({ asPath: { regex: '_65003$' } }))).toBe(true);
    expect(accepts(match({ asPath: { regex: '_6500_' } }))).toBe(false);
    expect(accepts(match({ asPath: { regex: '^$' } }), undefined, { ...base, asPath: [] })).toBe(true);
    expect(
      accepts(match({ asPath: { regex: '_65005_' } }), undefined, {
        ...base,
        asPath: [
          { type: 2, asns: [65001] },
          { type: 1, asns: [65004, 65005] },
        ],
      }),
    ).toBe(true);
  });

  it('next hop in prefixes', () => {
    expect(accepts(match({ nextHop: ['192.0.2.0/24'] }))).toBe(true);
    expect(accepts(match({ nextHop: ['198.51.100.0/24'] }))).toBe(false);
    expect(accepts(match({ nextHop: ['2001:db8::/32'] }), undefined, { ...base, nextHop: '2001:db8::1' })).toBe(true);
  });

  it('all conditions of a term must hold', () => {
    expect(accepts(match({ asPath: { contains: [65002] }, communities: { any: ['1:1'] } }))).toBe(false);
    expect(accepts(match({ asPath: { contains: [65002] }, communities: { any: ['65000:100'] } }))).toBe(true);
  });
});

describe('policy actions', () => {
  it('accept, reject, next, default', () => {
    const p = compilePolicy({
      terms: [
        { name: 'drop-private', match: { prefixList: [{ prefix: '10.0.0.0/8', le: 32 }] }, action: 'reject' },
        { name: 'tag', set: { med: 5 }, action: 'next' },
        { name: 'pref', match: { communities: { any: ['65000:100'] } }, set: { localPref: 300 }, action: 'accept' },
      ],
      default: 'reject',
    });
    expect(p.evaluate({ key: parsePrefixKey('10.1.0.0/16'), attrs: base })).toEqual({
      accepted: false,
      term: 'drop-private',
    });
    expect(p.evaluate({ key: parsePrefixKey('11.0.0.0/8'), attrs: base })).toEqual({
      accepted: true,
      attrs: { ...base, med: 5, localPref: 300 },
    });
    expect(p.evaluate({ key: parsePrefixKey('11.0.0.0/8'), attrs: { ...base, communities: [] } }).accepted).toBe(false);
    const open = compilePolicy({ terms: [] });
    const r = open.evaluate({ key: parsePrefixKey('11.0.0.0/8'), attrs: base });
    expect(r.accepted && r.attrs).toBe(base); // unchanged input is passed through, not copied
    expect(compilePolicy(undefined).evaluate({ key: 0, attrs: base }).accepted).toBe(true);
  });

  it('set local pref and MED (and remove MED)', () => {
    expect(changed({ localPref: 250 }).localPref).toBe(250);
    expect(changed({ med: 30 }).med).toBe(30);
    expect('med' in changed({ med: 'remove' }, { ...base, med: 4 })).toBe(false);
  });

  it('communities: add, remove, replace', () => {
    expect(changed({ communities: { add: ['1:2', '65000:100'] } }).communities).toEqual([
      ((65000 << 16) | 100) >>> 0,
      (1 << 16) | 2,
    ]);
    expect(changed({ communities: { remove: ['65000:100'] } }).communities).toBeUndefined();
    expect(changed({ communities: { replace: ['no-export'] } }).communities).toEqual([0xffffff01]);
    expect(changed({ communities: { replace: [], add: ['2:2'] } }).communities).toEqual([(2 << 16) | 2]);
  });

  it('large communities: add, remove, replace', () => {
    expect(changed({ largeCommunities: { add: ['1:2:3'] } }).largeCommunities).toEqual([
      { global: 65000, local1: 1, local2: 2 },
      { global: 1, local1: 2, local2: 3 },
    ]);
    expect(changed({ largeCommunities: { remove: ['65000:1:2'] } }).largeCommunities).toBeUndefined();
    expect(changed({ largeCommunities: { replace: ['7:7:7'] } }).largeCommunities).toEqual([
      { global: 7, local1: 7, local2: 7 },
    ]);
  });

  it('AS prepend (given AS or the local AS) and next hop (address or self)', () => {
    expect(changed({ asPathPrepend: { count: 2 } }).asPath).toEqual([
      { type: 2, asns: [64512, 64512, 65001, 65002, 65003] },
    ]);
    expect(changed({ asPathPrepend: { asn: 7, count: 1 } }).asPath).toEqual([
      { type: 2, asns: [7, 65001, 65002, 65003] },
    ]);
    expect(changed({ nextHop: '203.0.113.9' }).nextHop).toBe('203.0.113.9');
    expect(changed({ nextHop: 'self' }).nextHop).toBe('198.51.100.2');
    // the input is never modified
    expect(base.asPath).toEqual([{ type: 2, asns: [65001, 65002, 65003] }]);
  });
});

describe('policy config errors name the field', () => {
  const cases: [unknown, string][] = [
    [
      { terms: [{ match: { prefixList: [{ prefix: '10.0.0.0/8', le: 4 }] } }] },
      'policy.terms[0].match.prefixList[0].le',
    ],
    [
      { terms: [{ match: { prefixList: [{ prefix: '10.0.0.0/8', ge: 20, le: 16 }] } }] },
      'policy.terms[0].match.prefixList[0].le',
    ],
    [{ terms: [{ match: { prefixList: [{ prefix: '10.0.0.1/8' }] } }] }, 'policy.terms[0].match.prefixList[0].prefix'],
    [{ terms: [{}, { match: { communities: { any: ['65536:1'] } } }] }, 'policy.terms[1].match.communities.any[0]'],
    [{ terms: [{ match: { largeCommunities: { all: ['1:2'] } } }] }, 'policy.terms[0].match.largeCommunities.all[0]'],
    [{ terms: [{ match: { asPath: { regex: '(' } } }] }, 'policy.terms[0].match.asPath.regex'],
    [{ terms: [{ match: { asPath: { length: { min: 5, max: 2 } } } }] }, 'policy.terms[0].match.asPath.length.max'],
    [{ terms: [{ match: { nextHop: ['x'] } }] }, 'policy.terms[0].match.nextHop[0]'],
    [{ terms: [{ match: { colour: 'red' } }] }, 'policy.terms[0].match.colour'],
    [{ terms: [{ action: 'permit' }] }, 'policy.terms[0].action'],
    [{ terms: [{ set: { localPref: -1 } }] }, 'policy.terms[0].set.localPref'],
    [{ terms: [{ set: { med: 1.5 } }] }, 'policy.terms[0].set.med'],
    [{ terms: [{ set: { nextHop: '300.1.1.1' } }] }, 'policy.terms[0].set.nextHop'],
    [{ terms: [{ set: { asPathPrepend: { count: 2 } } }] }, 'policy.terms[0].set.asPathPrepend.asn'],
    [{ terms: [{ set: { communities: { add: 'no' } } }] }, 'policy.terms[0].set.communities.add'],
    [{ default: 'deny' }, 'policy.default'],
    [{ terms: {} }, 'policy.terms'],
  ];
  for (const [config, field] of cases) {
    it(field, () => {
      let err: unknown;
      try {
        compilePolicy(config as PolicyConfig);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PolicyConfigError);
      expect((err as PolicyConfigError).field).toBe(field);
      expect((err as Error).message).toContain(field);
    });
  }

  it('uses the given field prefix', () => {
    expect(() => compilePolicy({ default: 'x' } as unknown as PolicyConfig, { field: 'neighbors[2].import' })).toThrow(
      /^neighbors\[2\]\.import\.default: /,
    );
  });
});
