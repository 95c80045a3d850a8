import { describe, expect, it } from 'vitest';
import {
  AS_TRANS,
  community,
  type DecodeResult,
  decodeMessage,
  decodeUpdateFast,
  encodeMessage,
  encodeUpdates,
  encodeWithdrawals,
  endOfRib,
  Family,
  formatPrefix,
  isEndOfRib,
  MessageFramer,
  MessageType,
  mergeAs4Path,
  type Nlri,
  numberToIpv4,
  type PathAttributes,
  packIpv4Prefix,
  parsePrefix,
  type SessionCodecOptions,
  type UpdateMessage,
  WellKnownCommunity,
} from '../../src/wire/index.js';
import { AS2, AS4, AS4_EXT, addPath, BASE_ATTRS_AS4, hex, hx, update } from './helpers.js';

const n = (text: string, pathId?: number): Nlri =>
  pathId === undefined ? { prefix: parsePrefix(text) } : { prefix: parsePrefix(text), pathId };

function ok(r: DecodeResult): UpdateMessage {
  if (r.kind !== 'message' || r.message.type !== MessageType.UPDATE)
    throw new Error(`expected an UPDATE, got ${r.kind}: ${'reason' in r ? r.reason : ''}`);
  return r.message;
}

function decode(bytes: Uint8Array, opts: SessionCodecOptions): UpdateMessage {
  return ok(decodeMessage(bytes, opts));
}

// Every attribute Tortie interprets, plus an unknown optional transitive one, on a 4-octet session.
const FULL_BYTES = update(
  '18 0a 01 01                           // withdrawn 10.1.1.0/24',
  `
  40 01 01 00                            // ORIGIN IGP
  40 02 10                               // AS_PATH, 16 bytes
     02 02 00 00 fd e9 fa 56 ea 01       //   SEQUENCE 65001 4200000001
     01 01 00 00 fd ea                   //   SET {65002}
  40 03 04 c0 00 02 01                   // NEXT_HOP 192.0.2.1
  80 04 04 00 00 00 64                   // MULTI_EXIT_DISC 100
  40 05 04 00 00 00 c8                   // LOCAL_PREF 200
  40 06 00                               // ATOMIC_AGGREGATE
  c0 07 08 fa 56 ea 01 c0 00 02 09       // AGGREGATOR 4200000001 192.0.2.9
  c0 08 08 fd e8 00 64 ff ff ff 01       // COMMUNITIES 65000:100 NO_EXPORT
  80 09 04 c0 00 02 0a                   // ORIGINATOR_ID 192.0.2.10
  80 0a 08 c0 00 02 0b c0 00 02 0c       // CLUSTER_LIST 192.0.2.11 192.0.2.12
  c0 10 08 00 02 fd e8 00 00 00 01       // EXTENDED_COMMUNITIES route target 65000:1
  c0 20 0c fa 56 ea 01 00 00 00 01 00 00 00 02   // LARGE_COMMUNITY 4200000001:1:2
  e0 63 03 aa bb cc                      // attribute 99, optional transitive, Partial set on passing on
  `,
  `18 0a 02 02                           // 10.2.2.0/24
   20 c0 00 02 63                        // 192.0.2.99/32
   00                                    // 0.0.0.0/0`,
);

const FULL: UpdateMessage = {
  type: MessageType.UPDATE,
  withdrawn: [n('10.1.1.0/24')],
  attributes: {
    origin: 0,
    asPath: [
      { type: 2, asns: [65001, 4200000001] },
      { type: 1, asns: [65002] },
    ],
    nextHop: '192.0.2.1',
    med: 100,
    localPref: 200,
    atomicAggregate: true,
    aggregator: { asn: 4200000001, address: '192.0.2.9' },
    communities: [community(65000, 100), WellKnownCommunity.NO_EXPORT],
    originatorId: '192.0.2.10',
    clusterList: ['192.0.2.11', '192.0.2.12'],
    extendedCommunities: [hx('00 02 fd e8 00 00 00 01')],
    largeCommunities: [{ global: 4200000001, local1: 1, local2: 2 }],
    unknown: [{ flags: 0xe0, code: 99, value: hx('aa bb cc') }],
  },
  nlri: [n('10.2.2.0/24'), n('192.0.2.99/32'), n('0.0.0.0/0')],
};

const V6_BYTES = update(
  '',
  `
  80 0f 0c                               // MP_UNREACH_NLRI, 12 bytes
     00 02 01                            //   IPv6 unicast
     40 20 01 0d b8 00 02 00 00          //   2001:db8:2::/64
  80 0e 2c                               // MP_REACH_NLRI, 44 bytes
     00 02 01                            //   IPv6 unicast
     20                                  //   next hop length 32: global + link-local
     20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01   // 2001:db8::1
     fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 01   // fe80::1
     00                                  //   reserved
     30 20 01 0d b8 00 01                //   2001:db8:1::/48
  40 01 01 02                            // ORIGIN INCOMPLETE
  40 02 00                               // AS_PATH empty (iBGP)
  40 05 04 00 00 00 64                   // LOCAL_PREF 100
  `,
);

const V6: UpdateMessage = {
  type: MessageType.UPDATE,
  withdrawn: [],
  attributes: { origin: 2, asPath: [], localPref: 100 },
  mpReach: {
    family: 'ipv6-unicast',
    nextHop: '2001:db8::1',
    linkLocalNextHop: 'fe80::1',
    nlri: [n('2001:db8:1::/48')],
  },
  mpUnreach: { family: 'ipv6-unicast', withdrawn: [n('2001:db8:2::/64')] },
  nlri: [],
};

describe('UPDATE, tri-directional', () => {
  it('decodes every attribute from annotated bytes', () => {
    expect(decodeMessage(FULL_BYTES, AS4)).toEqual({ kind: 'message', message: FULL, warnings: [] });
  });
  it('encodes to the same bytes (attributes in type-code order, Partial set on the unknown one)', () => {
    expect(hex(encodeMessage(FULL, AS4))).toBe(hex(FULL_BYTES));
  });
  it('round-trips', () => {
    expect(decode(encodeMessage(FULL, AS4), AS4)).toEqual(FULL);
  });
  it('IPv6: MP_REACH with global and link-local next hop, MP_UNREACH; decode, encode, round-trip', () => {
    expect(decode(V6_BYTES, AS4)).toEqual(V6);
    expect(hex(encodeMessage(V6, AS4))).toBe(hex(V6_BYTES));
    expect(decode(encodeMessage(V6, AS4), AS4)).toEqual(V6);
  });
  it('IPv6 with a global next hop only (16 bytes)', () => {
    const m: UpdateMessage = {
      ...V6,
      mpReach: { family: 'ipv6-unicast', nextHop: '2001:db8::1', nlri: V6.mpReach!.nlri },
    };
    const bytes = encodeMessage(m, AS4);
    expect(decode(bytes, AS4)).toEqual(m);
    expect(hex(bytes)).toContain('800e1c000201' + '10' + '20010db8000000000000000000000001' + '00');
  });
  it('ADD-PATH: path identifiers before each prefix in both directions (RFC 7911)', () => {
    const bytes = update('00 00 00 07 18 0a 01 01', BASE_ATTRS_AS4, '00 00 00 01 18 0a 02 02 00 00 00 02 18 0a 02 02');
    const opts = addPath(AS4, [Family.IPV4_UNICAST]);
    const m = decode(bytes, opts);
    expect(m.withdrawn).toEqual([n('10.1.1.0/24', 7)]);
    expect(m.nlri).toEqual([n('10.2.2.0/24', 1), n('10.2.2.0/24', 2)]);
    expect(hex(encodeMessage(m, opts))).toBe(hex(bytes));
    // read without add-path negotiated, the same bytes mean other prefixes entirely
    expect(decode(bytes, AS4).withdrawn).not.toEqual(m.withdrawn);
  });
  it('masks host bits beyond the prefix length', () => {
    const m = decode(update('', BASE_ATTRS_AS4, '17 0a 01 03'), AS4); // 10.1.3.0/23 -> 10.1.2.0/23
    expect(m.nlri.map((x) => formatPrefix(x.prefix))).toEqual(['10.1.2.0/23']);
  });
});

describe('4-octet AS towards and from 2-octet peers (RFC 6793)', () => {
  const attrs: PathAttributes = {
    origin: 0,
    asPath: [
      { type: 3, asns: [65010] },
      { type: 2, asns: [4200000001, 65001] },
    ],
    nextHop: '192.0.2.1',
    aggregator: { asn: 4200000001, address: '192.0.2.9' },
  };
  const msg: UpdateMessage = { type: 2, withdrawn: [], attributes: attrs, nlri: [n('10.0.0.0/8')] };
  const AS2_BYTES = update(
    '',
    `
    40 01 01 00                              // ORIGIN
    40 02 0a 03 01 fd f2 02 02 5b a0 fd e9   // AS_PATH: CONFED_SEQ 65010, SEQ AS_TRANS 65001
    40 03 04 c0 00 02 01                     // NEXT_HOP
    c0 07 06 5b a0 c0 00 02 09               // AGGREGATOR AS_TRANS 192.0.2.9
    c0 11 0a 02 02 fa 56 ea 01 00 00 fd e9   // AS4_PATH SEQ 4200000001 65001 (no confederation segments)
    c0 12 08 fa 56 ea 01 c0 00 02 09         // AS4_AGGREGATOR 4200000001 192.0.2.9
    `,
    '08 0a',
  );

  it('sends AS_TRANS with AS4_PATH and AS4_AGGREGATOR to a 2-octet peer', () => {
    expect(hex(encodeMessage(msg, AS2))).toBe(hex(AS2_BYTES));
  });
  it('rebuilds the 4-octet path and aggregator from a 2-octet peer', () => {
    expect(decode(AS2_BYTES, AS2)).toEqual(msg);
  });
  it('sends no AS4_PATH when every AS fits in 2 octets', () => {
    const small: UpdateMessage = {
      ...msg,
      attributes: { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '192.0.2.1' },
    };
    const bytes = encodeMessage(small, AS2);
    expect(hex(bytes)).not.toContain('c011');
    expect(decode(bytes, AS2)).toEqual(small);
  });
  it('keeps the leading AS numbers AS4_PATH does not cover (a 2-octet speaker prepended)', () => {
    const bytes = update(
      '',
      `40 01 01 00
       40 02 08 02 03 fd ea 5b a0 fd e9          // SEQ 65002 AS_TRANS 65001
       40 03 04 c0 00 02 01
       c0 11 0a 02 02 fa 56 ea 01 00 00 fd e9    // AS4_PATH SEQ 4200000001 65001`,
      '08 0a',
    );
    expect(decode(bytes, AS2).attributes.asPath).toEqual([{ type: 2, asns: [65002, 4200000001, 65001] }]);
  });
  it('ignores AS4_PATH longer than AS_PATH, with a warning', () => {
    const bytes = update(
      '',
      `40 01 01 00
       40 02 04 02 01 5b a0                       // SEQ AS_TRANS
       40 03 04 c0 00 02 01
       c0 11 0a 02 02 fa 56 ea 01 00 00 fd e9`,
      '08 0a',
    );
    const r = decodeMessage(bytes, AS2);
    expect(r.kind === 'message' && r.message.type === 2 && r.message.attributes.asPath).toEqual([
      { type: 2, asns: [AS_TRANS] },
    ]);
    expect(r.kind === 'message' && r.warnings.join()).toMatch(/AS4_PATH ignored/);
  });
  it('ignores AS4_PATH and AS4_AGGREGATOR when AGGREGATOR carries a real 2-octet AS', () => {
    const bytes = update(
      '',
      `40 01 01 00
       40 02 04 02 01 5b a0
       40 03 04 c0 00 02 01
       c0 07 06 fd e9 c0 00 02 09                  // AGGREGATOR 65001
       c0 11 06 02 01 fa 56 ea 01
       c0 12 08 fa 56 ea 01 c0 00 02 09`,
      '08 0a',
    );
    const m = decode(bytes, AS2);
    expect(m.attributes.asPath).toEqual([{ type: 2, asns: [AS_TRANS] }]);
    expect(m.attributes.aggregator).toEqual({ asn: 65001, address: '192.0.2.9' });
  });
  it('discards AS4_PATH/AS4_AGGREGATOR from a 4-octet peer, with a warning (RFC 6793 §6)', () => {
    const bytes = update('', `${BASE_ATTRS_AS4} c0 11 06 02 01 fa 56 ea 01`, '08 0a');
    const r = decodeMessage(bytes, AS4);
    expect(r.kind).toBe('message');
    expect(r.kind === 'message' && r.message.type === 2 && r.message.attributes.asPath).toEqual([
      { type: 2, asns: [65001] },
    ]);
    expect(r.kind === 'message' && r.warnings.join()).toMatch(/AS4_PATH from a 4-octet AS peer/);
  });
  it('drops confederation segments from AS4_PATH, with a warning', () => {
    const bytes = update(
      '',
      `40 01 01 00
       40 02 04 02 01 5b a0
       40 03 04 c0 00 02 01
       c0 11 0c 03 01 00 00 fd f2 02 01 fa 56 ea 01`,
      '08 0a',
    );
    const r = decodeMessage(bytes, AS2);
    expect(r.kind === 'message' && r.message.type === 2 && r.message.attributes.asPath).toEqual([
      { type: 2, asns: [4200000001] },
    ]);
    expect(r.kind === 'message' && r.warnings.join()).toMatch(/confederation segments/);
  });
  it('mergeAs4Path counts an AS_SET as one and confederation segments as none', () => {
    expect(
      mergeAs4Path(
        [
          { type: 2, asns: [1, AS_TRANS] },
          { type: 1, asns: [7, 8] },
        ],
        [
          { type: 2, asns: [4200000001] },
          { type: 1, asns: [7, 8] },
        ],
      ),
    ).toEqual([
      { type: 2, asns: [1, 4200000001] },
      { type: 1, asns: [7, 8] },
    ]);
  });
  it('splits AS_PATH segments longer than 255 AS numbers', () => {
    const long: UpdateMessage = {
      ...msg,
      attributes: {
        origin: 0,
        asPath: [{ type: 2, asns: Array.from({ length: 300 }, (_, i) => 64512 + i) }],
        nextHop: '192.0.2.1',
      },
    };
    const back = decode(encodeMessage(long, AS4), AS4);
    expect(back.attributes.asPath?.map((s) => s.asns.length)).toEqual([255, 45]);
    expect(back.attributes.asPath?.flatMap((s) => s.asns)).toEqual(long.attributes.asPath![0]!.asns);
  });
});

describe('unknown and repeated attributes', () => {
  it('passes optional transitive attributes on with Partial, drops optional non-transitive ones', () => {
    const bytes = update('', `${BASE_ATTRS_AS4} c0 64 02 01 02  80 65 01 09 d0 66 00 01 07`, '08 0a');
    const m = decode(bytes, AS4);
    expect(m.attributes.unknown).toEqual([
      { flags: 0xe0, code: 100, value: hx('01 02') },
      { flags: 0xe0, code: 102, value: hx('07') },
    ]);
    const again = encodeMessage(m, AS4);
    expect(hex(again)).toContain('e0640201');
    expect(hex(again)).toContain('e0660107');
    expect(hex(again)).not.toContain('8065');
  });
  it('keeps only the first of a repeated attribute (RFC 7606 §3 g), with a warning', () => {
    const bytes = update('', `${BASE_ATTRS_AS4} 80 04 04 00 00 00 01 80 04 04 00 00 00 02`, '08 0a');
    const r = decodeMessage(bytes, AS4);
    expect(r.kind === 'message' && r.message.type === 2 && r.message.attributes.med).toBe(1);
    expect(r.kind === 'message' && r.warnings.join()).toMatch(/more than once/);
  });
  it('accepts the Extended Length bit on any attribute', () => {
    const bytes = update('', `50 01 00 01 00 50 02 00 06 02 01 00 00 fd e9 50 03 00 04 c0 00 02 01`, '08 0a');
    expect(decode(bytes, AS4).attributes).toEqual({
      origin: 0,
      asPath: [{ type: 2, asns: [65001] }],
      nextHop: '192.0.2.1',
    });
  });
});

describe('End-of-RIB (RFC 4724 §2)', () => {
  it.each([
    ['ipv4-unicast', '00 00 00 00'],
    ['ipv6-unicast', '00 00 00 06 80 0f 03 00 02 01'],
  ] as const)('%s', (family, body) => {
    const bytes = encodeMessage(endOfRib(family), AS4);
    expect(hex(bytes).slice(38)).toBe(hex(hx(body)));
    expect(isEndOfRib(decode(bytes, AS4))).toBe(family);
  });
  it('is not an ordinary UPDATE', () => {
    expect(isEndOfRib(FULL)).toBeUndefined();
    expect(isEndOfRib(V6)).toBeUndefined();
    expect(isEndOfRib({ type: 2, withdrawn: [], attributes: { origin: 0 }, nlri: [] })).toBeUndefined();
  });
});

describe('packing many NLRI per UPDATE', () => {
  const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }], communities: [1, 2, 3] };
  const v4 = Array.from({ length: 5000 }, (_, i) => ({
    prefix: { family: 'ipv4-unicast' as const, addr: (10 << 24) + (i << 8), length: 24 },
  }));

  function unpack(msgs: Uint8Array[], opts: SessionCodecOptions): UpdateMessage[] {
    return msgs.map((b) => {
      expect(b.length).toBeLessThanOrEqual(opts.maxMessageLength);
      return decode(b, opts);
    });
  }

  it('fills 4096-byte IPv4 UPDATEs, attributes once per message, every prefix once', () => {
    const msgs = encodeUpdates(attrs, v4, 'ipv4-unicast', '192.0.2.1', AS4);
    expect(msgs.length).toBe(Math.ceil(5000 / Math.floor((4096 - 23 - 33) / 4)));
    const ups = unpack(msgs, AS4);
    for (const u of ups) expect(u.attributes).toEqual({ ...attrs, nextHop: '192.0.2.1' });
    expect(ups.flatMap((u) => u.nlri)).toEqual(v4);
    expect(msgs.slice(0, -1).every((m) => m.length > 4096 - 4)).toBe(true);
  });
  it('uses 65535-byte messages when extended messages are negotiated', () => {
    const msgs = encodeUpdates(attrs, v4, 'ipv4-unicast', '192.0.2.1', AS4_EXT);
    expect(msgs.length).toBe(1);
  });
  it('packs IPv6 NLRI into MP_REACH_NLRI with the link-local next hop', () => {
    const v6 = Array.from({ length: 1500 }, (_, i) => n(`2001:db8:${i.toString(16)}::/48`));
    const msgs = encodeUpdates(attrs, v6, 'ipv6-unicast', { nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1' }, AS4);
    expect(msgs.length).toBeGreaterThan(1);
    const ups = unpack(msgs, AS4);
    expect(ups.flatMap((u) => u.mpReach!.nlri)).toEqual(v6);
    expect(ups.every((u) => u.mpReach!.linkLocalNextHop === 'fe80::1' && u.nlri.length === 0)).toBe(true);
  });
  it('packs path identifiers when ADD-PATH send is negotiated', () => {
    const opts = addPath(AS4, [], [Family.IPV4_UNICAST]);
    const withIds = v4.slice(0, 10).map((x, i) => ({ ...x, pathId: i + 1 }));
    const [b] = encodeUpdates(attrs, withIds, 'ipv4-unicast', '192.0.2.1', opts);
    expect(decode(b!, addPath(AS4, [Family.IPV4_UNICAST])).nlri).toEqual(withIds);
  });
  it('packs withdrawals for both families', () => {
    const w4 = encodeWithdrawals(v4, 'ipv4-unicast', AS4);
    expect(w4.length).toBe(Math.ceil(5000 / Math.floor((4096 - 23) / 4)));
    expect(unpack(w4, AS4).flatMap((u) => u.withdrawn)).toEqual(v4);
    const v6 = Array.from({ length: 1000 }, (_, i) => n(`2001:db8:${i.toString(16)}::/48`));
    const w6 = encodeWithdrawals(v6, 'ipv6-unicast', AS4);
    expect(unpack(w6, AS4).flatMap((u) => u.mpUnreach!.withdrawn)).toEqual(v6);
  });
  it('sends nothing for nothing', () => {
    expect(encodeUpdates(attrs, [], 'ipv4-unicast', '192.0.2.1', AS4)).toEqual([]);
    expect(encodeWithdrawals([], 'ipv6-unicast', AS4)).toEqual([]);
  });
  it('refuses an UPDATE too long for one message, pointing at encodeUpdates', () => {
    const m: UpdateMessage = { type: 2, withdrawn: [], attributes: { ...attrs, nextHop: '192.0.2.1' }, nlri: v4 };
    expect(() => encodeMessage(m, AS4)).toThrow(/encodeUpdates/);
  });
});

describe('decodeUpdateFast', () => {
  it('gives the same prefixes and attributes as decodeMessage, packed, with the raw attribute bytes', () => {
    const f = decodeUpdateFast(FULL_BYTES, AS4);
    expect(f.kind).toBe('update');
    expect([...f.withdrawn]).toEqual(
      FULL.withdrawn.map((x) => packIpv4Prefix(x.prefix.addr as number, x.prefix.length)),
    );
    expect([...f.nlri]).toEqual(FULL.nlri.map((x) => packIpv4Prefix(x.prefix.addr as number, x.prefix.length)));
    expect(f.attributes).toEqual(FULL.attributes);
    const tal = (FULL_BYTES[25]! << 8) | FULL_BYTES[26]!;
    expect(hex(f.rawAttributes)).toBe(hex(FULL_BYTES.subarray(27, 27 + tal)));
  });
  it('carries path identifiers alongside when ADD-PATH is negotiated', () => {
    const bytes = update('', BASE_ATTRS_AS4, '00 00 00 01 18 0a 02 02 00 00 00 02 20 0a 02 02 05');
    const f = decodeUpdateFast(bytes, addPath(AS4, [Family.IPV4_UNICAST]));
    expect([...(f.nlriPathIds ?? [])]).toEqual([1, 2]);
    expect([...f.nlri].map((p) => `${numberToIpv4(Math.floor(p / 64))}/${p % 64}`)).toEqual([
      '10.2.2.0/24',
      '10.2.2.5/32',
    ]);
  });
  it('reports treat-as-withdraw like decodeMessage', () => {
    const bytes = update('', '40 01 01 07 40 02 00 40 03 04 c0 00 02 01', '08 0a');
    expect(decodeUpdateFast(bytes, AS4)).toMatchObject({
      kind: 'treat-as-withdraw',
      reason: expect.stringMatching(/ORIGIN/),
    });
  });
  it('frames and decodes a stream of packed UPDATEs', () => {
    const prefixes = Array.from({ length: 3000 }, (_, i) => ({
      prefix: { family: 'ipv4-unicast' as const, addr: ((172 << 24) + i * 64) >>> 0, length: 26 },
    }));
    const msgs = encodeUpdates({ origin: 0, asPath: [] }, prefixes, 'ipv4-unicast', '192.0.2.1', AS4);
    const fr = new MessageFramer();
    for (const m of msgs) fr.push(m);
    const got: number[] = [];
    for (let m = fr.next(); m !== undefined; m = fr.next()) got.push(...decodeUpdateFast(m, AS4).nlri);
    expect(got).toEqual(prefixes.map((p) => p.prefix.addr * 64 + 26));
  });
});
