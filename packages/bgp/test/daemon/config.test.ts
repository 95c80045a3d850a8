import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/daemon/config.js';

const EXAMPLE = `
routerId: 192.0.2.2
asn: 65002
listen: { address: 192.0.2.2, port: 179 }
neighbors:
  - address: 192.0.2.1
    asn: 65001
    passive: false
    holdTime: 90
    families: [ipv4-unicast, ipv6-unicast]
    routeReflectorClient: false
    nextHopSelf: false
    gracefulRestart: { restartTime: 120 }
    import:
      default: reject
      terms:
        - match: { prefixList: [{ prefix: 10.244.0.0/16, ge: 24, le: 26 }], communities: { any: ["65001:7"] } }
          action: accept
          set: { localPref: 200, communities: { add: [no-export] }, asPathPrepend: { count: 2 } }
    export: { default: accept }
  - address: 2001:db8::1
    asn: 4200000001
advertise:
  - { prefix: 10.244.1.0/26, communities: ["65002:100"], largeCommunities: ["4200000002:1:2"], med: 5 }
  - { prefix: "2001:db8:1::/48" }
statusSocket: /run/tortie/bgpd.sock
`;

function issuesOf(text: string): string[] {
  try {
    parseConfig(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('daemon config', () => {
  it('reads the example from the issue with defaults filled in', () => {
    const c = parseConfig(EXAMPLE);
    expect(c.routerId).toBe('192.0.2.2');
    expect(c.asn).toBe(65002);
    expect(c.listen).toEqual({ address: '192.0.2.2', port: 179 });
    expect(c.neighbors).toHaveLength(2);
    const [n0, n1] = c.neighbors;
    expect(n0?.gracefulRestart).toEqual({ restartTime: 120 });
    expect(n0?.import?.default).toBe('reject');
    expect(n0?.import?.terms?.[0]?.match?.prefixList).toEqual([{ prefix: '10.244.0.0/16', ge: 24, le: 26 }]);
    expect(n0?.export).toEqual({ default: 'accept' });
    expect(n1).toMatchObject({
      address: '2001:db8::1',
      asn: 4200000001,
      port: 179,
      passive: false,
      holdTime: 90,
      families: ['ipv6-unicast'],
      gracefulRestart: false,
    });
    expect(n1?.import).toBeUndefined();
    expect(n1?.export).toBeUndefined();
    expect(c.advertise[0]).toEqual({
      prefix: '10.244.1.0/26',
      family: 'ipv4-unicast',
      communities: [65002 * 65536 + 100],
      largeCommunities: [{ global: 4200000002, local1: 1, local2: 2 }],
      med: 5,
    });
    expect(c.advertise[1]?.family).toBe('ipv6-unicast');
    expect(c.statusSocket).toBe('/run/tortie/bgpd.sock');
  });

  it('accepts JSON', () => {
    const c = parseConfig(JSON.stringify({ routerId: '10.0.0.1', asn: 1, listen: false }));
    expect(c.listen).toBe(false);
    expect(c.neighbors).toEqual([]);
  });

  it('port 0 means do not listen', () => {
    expect(parseConfig('routerId: 10.0.0.1\nasn: 1\nlisten: { port: 0 }').listen).toBe(false);
  });

  it('names the key of a bad hold time', () => {
    const text = `routerId: 10.0.0.1\nasn: 1\nneighbors:\n  - { address: 10.0.0.2, asn: 2 }\n  - { address: 10.0.0.3, asn: 3, holdTime: 2 }`;
    expect(issuesOf(text)).toEqual(['neighbors[1].holdTime: must be 0 or 3..65535, got 2']);
    expect(() => parseConfig(text)).toThrow(/neighbors\[1\]\.holdTime: must be 0 or 3\.\.65535, got 2/);
  });

  it('names unknown keys at every level', () => {
    const issues = issuesOf(
      `routerId: 10.0.0.1\nasn: 1\nbogus: 1\nlisten: { adress: 1.2.3.4 }\nneighbors:\n  - { address: 10.0.0.2, asn: 2, holdtime: 9, import: { terms: [ { match: { prefix: [] } } ] } }`,
    );
    expect(issues).toEqual([
      expect.stringMatching(/^bogus: unknown key/),
      expect.stringMatching(/^listen\.adress: unknown key/),
      expect.stringMatching(/^neighbors\[0\]\.holdtime: unknown key/),
      expect.stringMatching(/^neighbors\[0\]\.import\.terms\[0\]\.match\.prefix: /),
    ]);
  });

  it('reports every bad value, each with its key', () => {
    const issues = issuesOf(`
routerId: 300.1.1.1
asn: 0
neighbors:
  - { address: not-an-ip, asn: 65001, families: [ipv4-multicast], passive: yes please }
  - { address: 10.0.0.1, asn: 65001, gracefulRestart: { restartTime: 5000 } }
  - { address: 10.0.0.1, asn: 65001 }
advertise:
  - { prefix: 10.244.1.1/24, communities: ["70000:1"] }
  - { prefix: 10.0.0.0/8, largeCommunities: ["1:2"] }
`);
    expect(issues).toEqual([
      'routerId: must be an IPv4 address, got "300.1.1.1"',
      'asn: must be an AS number 1..4294967295, got 0',
      'neighbors[0].address: must be an IPv4 or IPv6 address, got "not-an-ip"',
      'neighbors[0].passive: must be true or false, got "yes please"',
      'neighbors[0].families[0]: must be one of ipv4-unicast, ipv6-unicast, got "ipv4-multicast"',
      'neighbors[1].gracefulRestart.restartTime: must be an integer 1..4095, got 5000',
      'neighbors[2].address: 10.0.0.1 is already configured as neighbors[1]',
      'advertise[0].prefix: host bits set in 10.244.1.1/24',
      'advertise[0].communities[0]: must be a community like 65001:100 or a well-known name, got "70000:1"',
      'advertise[1].largeCommunities[0]: must be a large community like 65001:1:2, got "1:2"',
    ]);
  });

  it('requires routerId and asn, and reports YAML syntax errors', () => {
    expect(issuesOf('neighbors: []')).toEqual(['routerId: is required', 'asn: is required']);
    expect(issuesOf('asn: [1')[0]).toMatch(/^: not valid YAML or JSON/);
    expect(issuesOf('asn: 1\nasn: 2')[0]).toMatch(/not valid YAML/);
  });

  it('checks policies with the policy compiler and names the key', () => {
    const issues = issuesOf(`
routerId: 10.0.0.1
asn: 1
neighbors:
  - address: 10.0.0.2
    asn: 2
    import: { terms: [ { match: { prefixList: [{ prefix: 10.0.0.0/16, ge: 8 }] } } ] }
  - address: 10.0.0.3
    asn: 3
    export: { terms: [ { action: drop } ] }
`);
    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatch(/^neighbors\[0\]\.import\.terms\[0\]\.match\.prefixList\[0\]\.ge: /);
    expect(issues[1]).toMatch(/^neighbors\[1\]\.export\.terms\[0\]\.action: .*drop/);
  });
});
