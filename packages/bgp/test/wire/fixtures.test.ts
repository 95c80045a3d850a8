// Real messages from BIRD 2 and FRR, captured by test/fixtures/capture.ts (see the # comments in
// each fixture for where they came from).
import { describe, expect, it } from 'vitest';
import {
  AS_TRANS,
  community,
  type DecodeResult,
  decodeMessage,
  decodeShutdownCommunication,
  decodeUpdateFast,
  encodeMessage,
  formatPrefix,
  isEndOfRib,
  MessageType,
  type OpenMessage,
  type SessionCodecOptions,
  type UpdateMessage,
  WellKnownCommunity,
} from '../../src/wire/index.js';
import { AS2, AS4_EXT, addPath, fixture, fixtureMessages, hex } from './helpers.js';

const OPTS: Record<string, SessionCodecOptions> = {
  v4: AS4_EXT,
  as2: { ...AS2, maxMessageLength: 65535 },
  addpath: addPath(AS4_EXT, ['ipv4-unicast']),
  v6: AS4_EXT,
};

function msg(r: DecodeResult) {
  if (r.kind !== 'message') throw new Error(`expected a message, got ${r.kind}`);
  expect(r.warnings).toEqual([]);
  return r.message;
}

function open(name: string): OpenMessage {
  const m = msg(decodeMessage(fixture(name), AS2));
  if (m.type !== MessageType.OPEN) throw new Error('not an OPEN');
  return m;
}

function upd(name: string, opts: SessionCodecOptions): UpdateMessage {
  const m = msg(decodeMessage(fixture(name), opts));
  if (m.type !== MessageType.UPDATE) throw new Error('not an UPDATE');
  return m;
}

const prefixes = (m: UpdateMessage) => [...m.nlri, ...(m.mpReach?.nlri ?? [])].map((n) => formatPrefix(n.prefix));

describe('BIRD 2 fixtures', () => {
  it('OPEN: AS_TRANS with the 4-octet AS capability and the capabilities BIRD was configured with', () => {
    const o = open('bird-open.hex');
    expect([o.myAs, o.holdTime, o.bgpId, o.capabilities.fourOctetAs]).toEqual([AS_TRANS, 90, '10.0.0.1', 4200000001]);
    expect(o.capabilities).toMatchObject({
      multiprotocol: ['ipv4-unicast'],
      routeRefresh: true,
      enhancedRouteRefresh: true,
      extendedMessage: true,
      gracefulRestart: { restartTime: 120, families: [{ family: 'ipv4-unicast', forwarding: false }] },
    });
    expect(o.capabilities.unknown.map((u) => u.code)).toEqual([71]); // long-lived graceful restart: ignored
    expect(open('bird-open-addpath.hex').capabilities.addPath).toEqual([{ family: 'ipv4-unicast', mode: 3 }]);
    expect(open('bird-open-v6.hex').capabilities.multiprotocol).toEqual(['ipv6-unicast']);
  });

  it('UPDATE IPv4: communities, large and extended communities, NEXT_HOP, 4-octet AS_PATH', () => {
    const m = upd('bird-update-v4.hex', OPTS.v4!);
    expect(prefixes(m)).toEqual(['10.10.2.128/25', '10.10.0.0/24', '10.10.1.0/24']);
    expect(m.attributes).toEqual({
      origin: 0,
      asPath: [{ type: 2, asns: [4200000001] }],
      nextHop: '10.0.0.1',
      communities: [community(65000, 100), WellKnownCommunity.NO_EXPORT],
      extendedCommunities: [Uint8Array.of(0, 2, 0xfd, 0xe8, 0, 0, 0, 1)],
      largeCommunities: [{ global: 4200000001, local1: 1, local2: 2 }],
    });
    // our encoder writes exactly what BIRD wrote
    expect(hex(encodeMessage(m, OPTS.v4!))).toBe(hex(fixture('bird-update-v4.hex')));
  });

  it('UPDATE with MED and a prepended 4-octet AS', () => {
    const second = fixtureMessages('bird-stream-v4.hex')[3]!;
    const m = msg(decodeMessage(second, OPTS.v4!)) as UpdateMessage;
    expect(prefixes(m)).toEqual(['10.11.0.0/16']);
    expect([m.attributes.med, m.attributes.asPath]).toEqual([50, [{ type: 2, asns: [4200000001, 4200000099] }]]);
  });

  it('UPDATE to a 2-octet peer: AS_TRANS in AS_PATH, AS4_PATH merged back', () => {
    const raw = fixture('bird-update-as2.hex');
    expect(hex(raw)).toContain('400204020' + '15ba0'); // AS_PATH SEQUENCE [AS_TRANS]
    expect(hex(raw)).toContain('c011060201fa56ea01'); // AS4_PATH SEQUENCE [4200000001]
    const m = upd('bird-update-as2.hex', OPTS.as2!);
    expect(m.attributes.asPath).toEqual([{ type: 2, asns: [4200000001] }]);
    expect(hex(encodeMessage(m, OPTS.as2!))).toBe(hex(raw));
  });

  it('UPDATE with ADD-PATH path identifiers', () => {
    const m = upd('bird-update-addpath.hex', OPTS.addpath!);
    expect(m.nlri.every((n) => typeof n.pathId === 'number')).toBe(true);
    expect(prefixes(m)).toEqual(['10.10.2.128/25', '10.10.0.0/24', '10.10.1.0/24']);
  });

  it('UPDATE IPv6: MP_REACH_NLRI with global and link-local next hop', () => {
    const m = upd('bird-update-v6.hex', OPTS.v6!);
    expect(m.mpReach).toMatchObject({ family: 'ipv6-unicast', nextHop: 'fd00::1' });
    expect(m.mpReach?.linkLocalNextHop).toMatch(/^fe80::/);
    expect(prefixes(m)).toEqual(['2001:db8:10::/48', '2001:db8:11:1::/64']);
    expect([m.attributes.med, m.attributes.largeCommunities]).toEqual([
      60,
      [{ global: 4200000001, local1: 6, local2: 6 }],
    ]);
  });

  it('NOTIFICATION: Cease / Administrative Shutdown with an RFC 9003 shutdown communication', () => {
    const m = msg(decodeMessage(fixture('bird-notification.hex'), AS2));
    expect(m).toMatchObject({ type: 3, code: 6, subcode: 2 });
    if (m.type !== 3) return;
    expect(decodeShutdownCommunication(m.data)).toMatchObject({
      ok: true,
      text: 'planned maintenance, back at 10:00 UTC',
    });
  });

  it('ROUTE-REFRESH for IPv4 unicast', () => {
    expect(msg(decodeMessage(fixture('bird-route-refresh.hex'), AS2))).toEqual({
      type: 5,
      family: 'ipv4-unicast',
      subtype: 0,
    });
  });
});

describe('FRR fixtures', () => {
  it('OPEN: hostname capability, 4-octet AS, one capability per optional parameter', () => {
    const o = open('frr-open.hex');
    expect([o.myAs, o.holdTime, o.capabilities.fourOctetAs]).toEqual([AS_TRANS, 180, 4200000011]);
    expect(o.capabilities.fqdn).toEqual({ hostname: 'frr-capture', domain: '' });
    expect(o.capabilities.gracefulRestart).toMatchObject({ restarting: true, restartTime: 120 });
    expect(o.capabilities.unknown.map((u) => u.code).sort()).toEqual([128, 71].sort());
    expect(open('frr-open-addpath.hex').capabilities.addPath).toEqual([{ family: 'ipv4-unicast', mode: 3 }]);
  });

  it('UPDATE IPv4 with MED, communities and a prepended path', () => {
    const m = upd('frr-update-v4.hex', OPTS.v4!);
    expect(prefixes(m)).toEqual(['10.20.0.0/24']);
    expect(m.attributes).toMatchObject({
      origin: 0,
      asPath: [{ type: 2, asns: [4200000011, 4200000012, 65013] }],
      nextHop: '10.0.0.1',
      med: 70,
      communities: [community(65000, 200), WellKnownCommunity.NO_EXPORT],
      largeCommunities: [{ global: 4200000011, local1: 3, local2: 4 }],
    });
  });

  it('aggregate with ATOMIC_AGGREGATE and AGGREGATOR; from the 2-octet session via AS4_AGGREGATOR', () => {
    for (const [file, opts] of [
      ['frr-stream-v4.hex', OPTS.v4!],
      ['frr-stream-as2.hex', OPTS.as2!],
    ] as const) {
      const agg = fixtureMessages(file)
        .map((b) => decodeMessage(b, opts))
        .map((r) => (r.kind === 'message' && r.message.type === 2 ? r.message : undefined))
        .find((m) => m !== undefined && prefixes(m).includes('10.21.0.0/16'));
      expect(agg?.attributes).toMatchObject({
        atomicAggregate: true,
        aggregator: { asn: 4200000011, address: '10.0.0.1' },
        asPath: [{ type: 2, asns: [4200000011, 4200000012, 65013] }],
      });
    }
  });

  it('UPDATE IPv6 with global and link-local next hop (AS_PATH with the Extended Length bit)', () => {
    const raw = fixture('frr-update-v6.hex');
    const m = upd('frr-update-v6.hex', OPTS.v6!);
    expect(m.mpReach?.nextHop).toBe('fd00::1');
    expect(m.mpReach?.linkLocalNextHop).toMatch(/^fe80::/);
    expect(prefixes(m)).toEqual(['2001:db8:20::/48', '2001:db8:21:1::/64']);
    expect(hex(raw)).toContain('5002000e'); // FRR sets Extended Length on AS_PATH
  });

  it('NOTIFICATION with a shutdown communication', () => {
    const m = msg(decodeMessage(fixture('frr-notification.hex'), AS2));
    if (m.type !== 3) throw new Error('not a NOTIFICATION');
    expect(decodeShutdownCommunication(m.data)).toMatchObject({
      ok: true,
      text: 'planned maintenance, back at 10:00 UTC',
    });
  });
});

describe('every captured message', () => {
  const streams = ['bird', 'frr'].flatMap((impl) =>
    Object.keys(OPTS).map((label) => ({ impl, label, file: `${impl}-stream-${label}.hex` })),
  );
  it.each(streams)(
    '$file: decodes without warnings, re-encodes to the same meaning, ends with End-of-RIB',
    ({ label, file }) => {
      const opts = OPTS[label]!;
      const eors: string[] = [];
      for (const b of fixtureMessages(file)) {
        const m = msg(decodeMessage(b, opts));
        const again = msg(decodeMessage(encodeMessage(m, opts), opts));
        expect(again).toEqual(m);
        if (m.type === MessageType.UPDATE) {
          const eor = isEndOfRib(m);
          if (eor !== undefined) eors.push(eor);
          const fast = decodeUpdateFast(b, opts);
          expect([...fast.nlri].length).toBe(m.nlri.length);
          expect(fast.attributes).toEqual(m.attributes);
        }
      }
      expect(eors).toEqual([label === 'v6' ? 'ipv6-unicast' : 'ipv4-unicast']);
    },
  );
});
