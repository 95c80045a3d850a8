import { describe, expect, it } from 'vitest';
import {
  AddPathMode,
  AS_TRANS,
  BgpError,
  type Capabilities,
  DEFAULT_CODEC_OPTIONS,
  decodeMessage,
  encodeMessage,
  localOpen,
  MessageType,
  NO_CAPABILITIES,
  NotificationCode,
  negotiateCodecOptions,
  negotiatedFamilies,
  type OpenMessage,
  OpenSubcode,
  peerAsn,
} from '../../src/wire/index.js';
import { hex, hx, message } from './helpers.js';

function decodeOpen(bytes: Uint8Array): OpenMessage {
  const r = decodeMessage(bytes, DEFAULT_CODEC_OPTIONS);
  if (r.kind !== 'message' || r.message.type !== MessageType.OPEN) throw new Error(`not an OPEN: ${r.kind}`);
  return r.message;
}

function openError(bytes: Uint8Array): BgpError {
  try {
    decodeMessage(bytes, DEFAULT_CODEC_OPTIONS);
  } catch (e) {
    if (e instanceof BgpError) return e;
    throw e;
  }
  throw new Error('expected a BgpError');
}

// An OPEN with every capability Tortie knows, one optional parameter holding them all.
const FULL_OPEN_BYTES = message(
  1,
  hx(`
  04                    // version 4
  5b a0                 // My AS 23456 (AS_TRANS)
  00 5a                 // hold time 90
  c0 00 02 01           // BGP Identifier 192.0.2.1
  3d                    // optional parameters length 61
  02 3b                 // parameter 2 (capabilities), 59 bytes
    01 04 00 01 00 01     // multiprotocol IPv4 unicast
    01 04 00 02 00 01     // multiprotocol IPv6 unicast
    02 00                 // route refresh
    06 00                 // extended message
    40 0a 80 78 00 01 01 80 00 02 01 00  // graceful restart: R, 120 s; IPv4 F=1, IPv6 F=0
    41 04 fa 56 ea 01     // 4-octet AS 4200000001
    45 08 00 01 01 03 00 02 01 01        // ADD-PATH IPv4 both, IPv6 receive
    46 00                 // enhanced route refresh
    49 0b 06 6e 6f 64 65 2d 61 03 6c 61 62  // hostname "node-a" domain "lab"
`),
);

const FULL_OPEN: OpenMessage = {
  type: MessageType.OPEN,
  version: 4,
  myAs: AS_TRANS,
  holdTime: 90,
  bgpId: '192.0.2.1',
  capabilities: {
    multiprotocol: ['ipv4-unicast', 'ipv6-unicast'],
    routeRefresh: true,
    enhancedRouteRefresh: true,
    fourOctetAs: 4200000001,
    gracefulRestart: {
      restarting: true,
      notification: false,
      restartTime: 120,
      families: [
        { family: 'ipv4-unicast', forwarding: true },
        { family: 'ipv6-unicast', forwarding: false },
      ],
    },
    extendedMessage: true,
    addPath: [
      { family: 'ipv4-unicast', mode: AddPathMode.BOTH },
      { family: 'ipv6-unicast', mode: AddPathMode.RECEIVE },
    ],
    fqdn: { hostname: 'node-a', domain: 'lab' },
    unknown: [],
  },
};

describe('OPEN', () => {
  it('decodes annotated bytes', () => {
    expect(decodeOpen(FULL_OPEN_BYTES)).toEqual(FULL_OPEN);
  });

  it('encodes to the same bytes', () => {
    expect(hex(encodeMessage(FULL_OPEN, DEFAULT_CODEC_OPTIONS))).toBe(hex(FULL_OPEN_BYTES));
  });

  it('round-trips', () => {
    expect(decodeOpen(encodeMessage(FULL_OPEN, DEFAULT_CODEC_OPTIONS))).toEqual(FULL_OPEN);
  });

  it('encodes a bare OPEN (no optional parameters) and reads it back', () => {
    const bare: OpenMessage = { ...FULL_OPEN, myAs: 65001, capabilities: NO_CAPABILITIES };
    const bytes = encodeMessage(bare, DEFAULT_CODEC_OPTIONS);
    expect(hex(bytes)).toBe(hex(message(1, hx('04 fd e9 00 5a c0 00 02 01 00'))));
    expect(decodeOpen(bytes)).toEqual(bare);
  });

  it('keeps unknown capabilities aside and otherwise ignores them; capabilities may be spread over parameters', () => {
    const bytes = message(
      1,
      hx(`04 fd e9 00 b4 0a 00 00 01 12
        02 06 01 04 00 01 00 01   // parameter: multiprotocol IPv4
        02 02 80 00               // parameter: Cisco pre-standard route refresh (128), unknown
        02 04 47 02 ab cd         // parameter: capability 71 (long-lived GR) with 2 bytes, unknown
      `),
    );
    const o = decodeOpen(bytes);
    expect(o.capabilities.multiprotocol).toEqual(['ipv4-unicast']);
    expect(o.capabilities.routeRefresh).toBe(false);
    expect(o.capabilities.unknown).toEqual([
      { code: 128, value: new Uint8Array(0) },
      { code: 71, value: hx('ab cd') },
    ]);
    expect(peerAsn(o)).toBe(65001);
  });

  it('ignores multiprotocol and ADD-PATH entries for families Tortie does not speak', () => {
    const o = decodeOpen(
      message(
        1,
        hx(`04 fd e9 00 b4 0a 00 00 01 14
        02 12
          01 04 00 01 00 02         // IPv4 multicast
          01 04 00 01 00 01         // IPv4 unicast
          45 04 00 19 46 03         // ADD-PATH for L2VPN EVPN (AFI 25, SAFI 70): not ours
      `),
      ),
    );
    expect(o.capabilities.multiprotocol).toEqual(['ipv4-unicast']);
    expect(o.capabilities.addPath).toEqual([]);
    expect(o.capabilities.unknown).toEqual([{ code: 1, value: hx('00 01 00 02') }]);
  });

  it('accepts optional parameters in the RFC 9072 extended format', () => {
    const bytes = message(
      1,
      hx(`04 fd e9 00 b4 0a 00 00 01
        ff                        // Non-Ext OP Len 255
        ff                        // Non-Ext OP Type 255: extended format
        00 0b                     // Extended Opt. Parm. Length 11
        02 00 08                  // parameter 2 (capabilities), 2-octet length 8
          01 04 00 02 00 01       // multiprotocol IPv6 unicast
          02 00                   // route refresh
      `),
    );
    const o = decodeOpen(bytes);
    expect(o.capabilities.multiprotocol).toEqual(['ipv6-unicast']);
    expect(o.capabilities.routeRefresh).toBe(true);
  });

  it('encodes in the RFC 9072 format only when the capabilities exceed 255 bytes, and reads that back', () => {
    const unknown = Array.from({ length: 30 }, (_, i) => ({ code: 200 + i, value: new Uint8Array(8).fill(i) }));
    const big: OpenMessage = { ...FULL_OPEN, capabilities: { ...FULL_OPEN.capabilities, unknown } };
    const bytes = encodeMessage(big, DEFAULT_CODEC_OPTIONS);
    expect([bytes[28], bytes[29]]).toEqual([255, 255]);
    expect(decodeOpen(bytes)).toEqual(big);
  });

  it('localOpen puts AS_TRANS in My AS for 4-octet AS numbers and the real one in the capability', () => {
    const o = localOpen({ asn: 4200000001, holdTime: 90, bgpId: '10.0.0.1', capabilities: NO_CAPABILITIES });
    expect([o.myAs, o.capabilities.fourOctetAs, peerAsn(o)]).toEqual([AS_TRANS, 4200000001, 4200000001]);
    const p = localOpen({ asn: 64512, holdTime: 90, bgpId: '10.0.0.1', capabilities: NO_CAPABILITIES });
    expect([p.myAs, p.capabilities.fourOctetAs]).toEqual([64512, 64512]);
  });

  describe('errors (RFC 4271 §6.2, RFC 5492, RFC 7607)', () => {
    /** A minimal OPEN body with some bytes replaced (offset -> value). */
    const base = (patch: Record<number, number>, body = '04 fd e9 00 5a c0 00 02 01 00') => {
      const b = hx(body);
      for (const [at, v] of Object.entries(patch)) b[Number(at)] = v;
      return message(1, b);
    };
    it.each([
      ['version 3', base({ 0: 3 }), OpenSubcode.UNSUPPORTED_VERSION_NUMBER, hx('00 04')],
      ['My AS 0', base({ 1: 0, 2: 0 }), OpenSubcode.BAD_PEER_AS, hx('')],
      ['hold time 1', base({ 3: 0, 4: 1 }), OpenSubcode.UNACCEPTABLE_HOLD_TIME, hx('')],
      ['hold time 2', base({ 3: 0, 4: 2 }), OpenSubcode.UNACCEPTABLE_HOLD_TIME, hx('')],
      ['BGP Identifier 0.0.0.0', base({ 5: 0, 6: 0, 7: 0, 8: 0 }), OpenSubcode.BAD_BGP_IDENTIFIER, hx('')],
      [
        'optional parameter type 1 (authentication, deprecated)',
        base({}, '04 fd e9 00 5a c0 00 02 01 04 01 02 00 00'),
        OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER,
        hx(''),
      ],
      [
        'optional parameters length beyond the message',
        base({}, '04 fd e9 00 5a c0 00 02 01 08 02 02 02 00'),
        OpenSubcode.UNSPECIFIC,
        hx(''),
      ],
      [
        'capability running past its parameter',
        base({}, '04 fd e9 00 5a c0 00 02 01 04 02 02 41 04'),
        OpenSubcode.UNSPECIFIC,
        hx(''),
      ],
      [
        '4-octet AS capability of 2 bytes',
        base({}, '04 fd e9 00 5a c0 00 02 01 06 02 04 41 02 00 01'),
        OpenSubcode.UNSPECIFIC,
        hx('41 02 00 01'),
      ],
      [
        '4-octet AS capability carrying AS 0',
        base({}, '04 5b a0 00 5a c0 00 02 01 08 02 06 41 04 00 00 00 00'),
        OpenSubcode.BAD_PEER_AS,
        hx(''),
      ],
      [
        'graceful restart capability of 3 bytes',
        base({}, '04 fd e9 00 5a c0 00 02 01 07 02 05 40 03 00 78 00'),
        OpenSubcode.UNSPECIFIC,
        hx('40 03 00 78 00'),
      ],
    ])('%s -> OPEN Message Error', (_what, bytes, subcode, data) => {
      const e = openError(bytes);
      expect([e.code, e.subcode, hex(e.data)]).toEqual([NotificationCode.OPEN_MESSAGE_ERROR, subcode, hex(data)]);
      expect(e.message).toMatch(/OPEN Message Error/);
    });
  });
});

describe('negotiateCodecOptions', () => {
  const caps = (c: Partial<Capabilities>): Capabilities => ({ ...NO_CAPABILITIES, ...c });

  it('is 2-octet, no add-path, 4096 bytes when the peer sent nothing', () => {
    const o = negotiateCodecOptions(FULL_OPEN.capabilities, NO_CAPABILITIES);
    expect(o.fourOctetAs).toBe(false);
    expect([...o.addPathReceive, ...o.addPathSend]).toEqual([]);
    expect(o.maxMessageLength).toBe(4096);
  });

  it('needs both sides for 4-octet AS and extended messages', () => {
    const o = negotiateCodecOptions(
      caps({ fourOctetAs: 1, extendedMessage: true }),
      caps({ fourOctetAs: 2, extendedMessage: true }),
    );
    expect([o.fourOctetAs, o.maxMessageLength]).toEqual([true, 65535]);
    expect(negotiateCodecOptions(caps({ fourOctetAs: 1 }), caps({ extendedMessage: true })).maxMessageLength).toBe(
      4096,
    );
  });

  it('pairs ADD-PATH receive with the peer sending and send with the peer receiving, per family (RFC 7911 §4)', () => {
    const local = caps({
      addPath: [
        { family: 'ipv4-unicast', mode: AddPathMode.BOTH },
        { family: 'ipv6-unicast', mode: AddPathMode.RECEIVE },
      ],
    });
    const remote = caps({
      addPath: [
        { family: 'ipv4-unicast', mode: AddPathMode.RECEIVE },
        { family: 'ipv6-unicast', mode: AddPathMode.BOTH },
      ],
    });
    const o = negotiateCodecOptions(local, remote);
    expect([...o.addPathReceive]).toEqual(['ipv6-unicast']);
    expect([...o.addPathSend]).toEqual(['ipv4-unicast']);
  });

  it('negotiatedFamilies intersects multiprotocol, IPv4 unicast implied when absent', () => {
    expect(negotiatedFamilies(FULL_OPEN.capabilities, caps({ multiprotocol: ['ipv6-unicast'] }))).toEqual([
      'ipv6-unicast',
    ]);
    expect(negotiatedFamilies(NO_CAPABILITIES, NO_CAPABILITIES)).toEqual(['ipv4-unicast']);
  });
});
