// The corpus of malformed messages: each entry the bytes (annotated), the session options, and the
// action RFC 4271 §6 / RFC 7606 / RFC 6793 / RFC 4760 prescribe, with the exact NOTIFICATION when
// the session must be reset.
import type { SessionCodecOptions } from '../../src/wire/index.js';
import { AS2, AS4, BASE_ATTRS_AS4, hx, message, update } from './helpers.js';

export type Expected =
  /** Session reset: the NOTIFICATION code, subcode and data (hex). */
  | { readonly notify: readonly [code: number, subcode: number, data: string] }
  /** RFC 7606 treat-as-withdraw; `withdraw` lists the prefixes the caller must withdraw. */
  | { readonly treatAsWithdraw: RegExp; readonly withdraw: readonly string[] }
  /** RFC 7606 attribute discard: the message is used without the attribute, with a warning. */
  | { readonly discard: RegExp; readonly absent: string }
  /** Not an error: the message is used (possibly with a warning). */
  | { readonly accept: RegExp | undefined }
  /** RFC 2918/7313: the message is ignored. */
  | { readonly ignored: RegExp };

export interface MalformedCase {
  readonly name: string;
  readonly rfc: string;
  readonly opts: SessionCodecOptions;
  readonly bytes: Uint8Array;
  readonly expect: Expected;
}

const ORIGIN = '40 01 01 00';
const AS_PATH4 = '40 02 06 02 01 00 00 fd e9';
const AS_PATH2 = '40 02 04 02 01 fd e9';
const NEXT_HOP = '40 03 04 c0 00 02 01';
const NLRI = '18 0a 02 02'; // 10.2.2.0/24
const V6_REACH = '80 0e 1c 00 02 01 10 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 00 30 20 01 0d b8 00 01';
const BASE_AS2 = `${ORIGIN} ${AS_PATH2} ${NEXT_HOP}`;

/** The attribute with a flags/type/length header, as hex, for NOTIFICATION data. */
const attr = (h: string) => h.replace(/\s+/g, '');

export const MALFORMED: readonly MalformedCase[] = [
  // ---------------- session reset ----------------
  {
    name: 'Withdrawn Routes Length runs past the message',
    rfc: 'RFC 4271 §6.3, RFC 7606 §5.3',
    opts: AS4,
    bytes: message(2, hx('00 10 18 0a 01 01 00 00')),
    expect: { notify: [3, 1, ''] },
  },
  {
    name: 'Total Path Attribute Length runs past the message',
    rfc: 'RFC 4271 §6.3',
    opts: AS4,
    bytes: message(2, hx(`00 00 00 40 ${ORIGIN}`)),
    expect: { notify: [3, 1, ''] },
  },
  {
    name: 'withdrawn prefix length 33',
    rfc: 'RFC 4271 §6.3, RFC 7606 §5.3',
    opts: AS4,
    bytes: update('21 0a 01 01 01 01', ''),
    expect: { notify: [3, 10, ''] },
  },
  {
    name: 'NLRI prefix length 40',
    rfc: 'RFC 4271 §6.3, RFC 7606 §5.3',
    opts: AS4,
    bytes: update('', BASE_ATTRS_AS4, '28 0a 02 02 02 02'),
    expect: { notify: [3, 10, ''] },
  },
  {
    name: 'NLRI /24 with only two address bytes',
    rfc: 'RFC 4271 §6.3, RFC 7606 §5.3',
    opts: AS4,
    bytes: update('', BASE_ATTRS_AS4, '18 0a 02'),
    expect: { notify: [3, 10, ''] },
  },
  {
    name: 'ADD-PATH NLRI with a truncated path identifier',
    rfc: 'RFC 7911 §3, RFC 7606 §5.3',
    opts: { ...AS4, addPathReceive: new Set(['ipv4-unicast']) },
    bytes: update('', BASE_ATTRS_AS4, '00 00 01'),
    expect: { notify: [3, 10, ''] },
  },
  {
    name: 'unrecognized well-known attribute 99',
    rfc: 'RFC 4271 §6.3',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} 40 63 02 ab cd`, NLRI),
    expect: { notify: [3, 2, attr('40 63 02 ab cd')] },
  },
  {
    name: 'MP_REACH_NLRI twice',
    rfc: 'RFC 7606 §3 g',
    opts: AS4,
    bytes: update('', `${V6_REACH} ${V6_REACH} ${ORIGIN} ${AS_PATH4}`),
    expect: { notify: [3, 1, ''] },
  },
  {
    name: 'MP_UNREACH_NLRI twice',
    rfc: 'RFC 7606 §3 g',
    opts: AS4,
    bytes: update('', '80 0f 03 00 02 01 80 0f 03 00 02 01'),
    expect: { notify: [3, 1, ''] },
  },
  {
    name: 'MP_REACH_NLRI IPv6 next hop of 5 bytes',
    rfc: 'RFC 7606 §7.11, RFC 4760 §7',
    opts: AS4,
    bytes: update('', `80 0e 0c 00 02 01 05 20 01 0d b8 01 00 08 0a ${ORIGIN} ${AS_PATH4}`),
    expect: { notify: [3, 9, attr('80 0e 0c 00 02 01 05 20 01 0d b8 01 00 08 0a')] },
  },
  {
    name: 'MP_REACH_NLRI next hop length beyond the attribute',
    rfc: 'RFC 7606 §7.11',
    opts: AS4,
    bytes: update('', `80 0e 06 00 02 01 20 00 00 ${ORIGIN} ${AS_PATH4}`),
    expect: { notify: [3, 9, attr('80 0e 06 00 02 01 20 00 00')] },
  },
  {
    name: 'MP_REACH_NLRI IPv6 prefix length 129',
    rfc: 'RFC 7606 §5.3, RFC 4760 §7',
    opts: AS4,
    bytes: update(
      '',
      `80 0e 16 00 02 01 10 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 00 81 ${ORIGIN} ${AS_PATH4}`,
    ),
    expect: {
      notify: [3, 9, attr('80 0e 16 00 02 01 10 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 00 81')],
    },
  },
  {
    name: 'MP_UNREACH_NLRI of 2 bytes',
    rfc: 'RFC 7606 §7.11',
    opts: AS4,
    bytes: update('', '80 0f 02 00 02'),
    expect: { notify: [3, 9, attr('80 0f 02 00 02')] },
  },
  {
    name: 'MP_REACH_NLRI marked well-known (flags 0x40)',
    rfc: 'RFC 4271 §6.3 Attribute Flags Error; MP attributes cannot be treated as withdraw',
    opts: AS4,
    bytes: update('', `${V6_REACH.replace(/^80/, '40')} ${ORIGIN} ${AS_PATH4}`),
    expect: { notify: [3, 4, attr(V6_REACH.replace(/^80/, '40'))] },
  },
  {
    name: 'UPDATE whose header says 22 bytes',
    rfc: 'RFC 4271 §6.1',
    opts: AS4,
    bytes: hx('ffffffffffffffffffffffffffffffff 0016 02 000000'),
    expect: { notify: [1, 2, '0016'] },
  },
  {
    name: 'KEEPALIVE of 20 bytes',
    rfc: 'RFC 4271 §6.1',
    opts: AS4,
    bytes: message(4, hx('00')),
    expect: { notify: [1, 2, '0014'] },
  },
  {
    name: 'message type 7',
    rfc: 'RFC 4271 §6.1',
    opts: AS4,
    bytes: message(7, hx('')),
    expect: { notify: [1, 3, '07'] },
  },
  {
    name: 'marker not all ones',
    rfc: 'RFC 4271 §6.1',
    opts: AS4,
    bytes: hx('ffffffffffffffffffffffffffffff7f 0013 04'),
    expect: { notify: [1, 1, ''] },
  },
  {
    name: 'frame shorter than its header says',
    rfc: 'RFC 4271 §6.1',
    opts: AS4,
    bytes: hx('ffffffffffffffffffffffffffffffff 0020 02 0000 0000'),
    expect: { notify: [1, 2, '0020'] },
  },
  {
    name: 'ROUTE-REFRESH of 24 bytes',
    rfc: 'RFC 7313 §5',
    opts: AS4,
    bytes: message(5, hx('00 01 00 01 00')),
    expect: { notify: [7, 1, 'ffffffffffffffffffffffffffffffff00180500010001' + '00'] },
  },
  // ---------------- treat-as-withdraw ----------------
  {
    name: 'ORIGIN value 3',
    rfc: 'RFC 7606 §7.1',
    opts: AS4,
    bytes: update('', `40 01 01 03 ${AS_PATH4} ${NEXT_HOP}`, NLRI),
    expect: { treatAsWithdraw: /ORIGIN value 3/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'ORIGIN of 2 bytes',
    rfc: 'RFC 7606 §7.1',
    opts: AS4,
    bytes: update('', `40 01 02 00 00 ${AS_PATH4} ${NEXT_HOP}`, NLRI),
    expect: { treatAsWithdraw: /ORIGIN is 2 bytes/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'ORIGIN marked optional (flags 0xc0)',
    rfc: 'RFC 7606 §3 c',
    opts: AS4,
    bytes: update('', `c0 01 01 00 ${AS_PATH4} ${NEXT_HOP}`, NLRI),
    expect: { treatAsWithdraw: /ORIGIN flags/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'LOCAL_PREF (well-known) with the Partial bit',
    rfc: 'RFC 4271 §4.3, RFC 7606 §3 c',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} 60 05 04 00 00 00 64`, NLRI),
    expect: { treatAsWithdraw: /Partial/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'AS_PATH segment type 5',
    rfc: 'RFC 7606 §7.2',
    opts: AS4,
    bytes: update('', `${ORIGIN} 40 02 06 05 01 00 00 fd e9 ${NEXT_HOP}`, NLRI),
    expect: { treatAsWithdraw: /segment type 5/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'AS_PATH segment with zero AS numbers',
    rfc: 'RFC 7606 §7.2',
    opts: AS4,
    bytes: update('', `${ORIGIN} 40 02 02 02 00 ${NEXT_HOP}`, NLRI),
    expect: { treatAsWithdraw: /zero AS numbers/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'AS_PATH segment running past the attribute',
    rfc: 'RFC 7606 §7.2',
    opts: AS4,
    bytes: update('', `${ORIGIN} 40 02 06 02 02 00 00 fd e9 ${NEXT_HOP}`, NLRI),
    expect: { treatAsWithdraw: /runs past/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'AS_PATH with 2-octet AS numbers on a 4-octet session (odd leftovers)',
    rfc: 'RFC 7606 §7.2',
    opts: AS4,
    bytes: update('', `${ORIGIN} ${AS_PATH2} ${NEXT_HOP}`, NLRI),
    expect: { treatAsWithdraw: /AS_PATH/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'NEXT_HOP of 5 bytes',
    rfc: 'RFC 7606 §7.3',
    opts: AS4,
    bytes: update('', `${ORIGIN} ${AS_PATH4} 40 03 05 c0 00 02 01 00`, NLRI),
    expect: { treatAsWithdraw: /NEXT_HOP is 5 bytes/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'NEXT_HOP 0.0.0.0',
    rfc: 'RFC 4271 §6.3 (semantically incorrect NEXT_HOP)',
    opts: AS4,
    bytes: update('', `${ORIGIN} ${AS_PATH4} 40 03 04 00 00 00 00`, NLRI),
    expect: { treatAsWithdraw: /not a unicast address/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'NEXT_HOP 224.0.0.5 (multicast)',
    rfc: 'RFC 4271 §6.3 (semantically incorrect NEXT_HOP)',
    opts: AS4,
    bytes: update('', `${ORIGIN} ${AS_PATH4} 40 03 04 e0 00 00 05`, NLRI),
    expect: { treatAsWithdraw: /not a unicast address/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'ORIGIN missing',
    rfc: 'RFC 7606 §3 d',
    opts: AS4,
    bytes: update('', `${AS_PATH4} ${NEXT_HOP}`, NLRI),
    expect: { treatAsWithdraw: /ORIGIN is missing/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'AS_PATH missing',
    rfc: 'RFC 7606 §3 d',
    opts: AS4,
    bytes: update('', `${ORIGIN} ${NEXT_HOP}`, NLRI),
    expect: { treatAsWithdraw: /AS_PATH is missing/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'NEXT_HOP missing with IPv4 NLRI',
    rfc: 'RFC 7606 §3 d',
    opts: AS4,
    bytes: update('', `${ORIGIN} ${AS_PATH4}`, NLRI),
    expect: { treatAsWithdraw: /NEXT_HOP is missing/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'ORIGIN missing with only MP_REACH_NLRI (the IPv6 prefixes are withdrawn)',
    rfc: 'RFC 7606 §3 d',
    opts: AS4,
    bytes: update('', `${V6_REACH} ${AS_PATH4}`),
    expect: { treatAsWithdraw: /ORIGIN is missing/, withdraw: ['2001:db8:1::/48'] },
  },
  {
    name: 'MULTI_EXIT_DISC of 3 bytes',
    rfc: 'RFC 7606 §7.4',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} 80 04 03 00 00 01`, NLRI),
    expect: { treatAsWithdraw: /MULTI_EXIT_DISC is 3 bytes/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'LOCAL_PREF of 2 bytes',
    rfc: 'RFC 7606 §7.5',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} 40 05 02 00 64`, NLRI),
    expect: { treatAsWithdraw: /LOCAL_PREF is 2 bytes/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'COMMUNITIES of 6 bytes',
    rfc: 'RFC 7606 §7.8',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} c0 08 06 fd e8 00 64 00 01`, NLRI),
    expect: { treatAsWithdraw: /COMMUNITIES is 6 bytes/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'COMMUNITIES of 0 bytes',
    rfc: 'RFC 7606 §7.8',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} c0 08 00`, NLRI),
    expect: { treatAsWithdraw: /COMMUNITIES is 0 bytes/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'EXTENDED_COMMUNITIES of 12 bytes',
    rfc: 'RFC 7606 §7.14',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} c0 10 0c 00 02 fd e8 00 00 00 01 00 00 00 00`, NLRI),
    expect: { treatAsWithdraw: /EXTENDED_COMMUNITIES is 12 bytes/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'LARGE_COMMUNITY of 8 bytes',
    rfc: 'RFC 8092 §6',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} c0 20 08 00 00 00 01 00 00 00 02`, NLRI),
    expect: { treatAsWithdraw: /LARGE_COMMUNITY is 8 bytes/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'ORIGINATOR_ID of 5 bytes',
    rfc: 'RFC 7606 §7.9',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} 80 09 05 c0 00 02 01 00`, NLRI),
    expect: { treatAsWithdraw: /ORIGINATOR_ID is 5 bytes/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'CLUSTER_LIST of 6 bytes',
    rfc: 'RFC 7606 §7.10',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} 80 0a 06 c0 00 02 01 00 00`, NLRI),
    expect: { treatAsWithdraw: /CLUSTER_LIST is 6 bytes/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'last attribute length runs past the attribute field (NLRI still located)',
    rfc: 'RFC 7606 §4',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} 80 04 09 00 00 00 01`, NLRI),
    expect: { treatAsWithdraw: /runs past the path attributes/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'two stray bytes at the end of the attribute field',
    rfc: 'RFC 7606 §4',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} 40 01`, NLRI),
    expect: { treatAsWithdraw: /too few for an attribute header/, withdraw: ['10.2.2.0/24'] },
  },
  {
    name: 'extended-length attribute header cut short',
    rfc: 'RFC 7606 §4',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} 90 08 00`, NLRI),
    expect: { treatAsWithdraw: /header at byte \d+ is truncated/, withdraw: ['10.2.2.0/24'] },
  },
  // ---------------- attribute discard ----------------
  {
    name: 'ATOMIC_AGGREGATE of 1 byte',
    rfc: 'RFC 7606 §7.6',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} 40 06 01 00`, NLRI),
    expect: { discard: /ATOMIC_AGGREGATE is 1 bytes/, absent: 'atomicAggregate' },
  },
  {
    name: 'AGGREGATOR of 7 bytes on a 4-octet session',
    rfc: 'RFC 7606 §7.7',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} c0 07 07 00 00 fd e9 c0 00 02`, NLRI),
    expect: { discard: /AGGREGATOR is 7 bytes, expected 8/, absent: 'aggregator' },
  },
  {
    name: 'AGGREGATOR of 8 bytes on a 2-octet session',
    rfc: 'RFC 7606 §7.7',
    opts: AS2,
    bytes: update('', `${BASE_AS2} c0 07 08 00 00 fd e9 c0 00 02 01`, NLRI),
    expect: { discard: /AGGREGATOR is 8 bytes, expected 6/, absent: 'aggregator' },
  },
  {
    name: 'AGGREGATOR with AS 0',
    rfc: 'RFC 7607 §2',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} c0 07 08 00 00 00 00 c0 00 02 01`, NLRI),
    expect: { discard: /AS 0/, absent: 'aggregator' },
  },
  {
    name: 'AS4_PATH of odd length from a 2-octet peer',
    rfc: 'RFC 6793 §6',
    opts: AS2,
    bytes: update('', `${BASE_AS2} c0 11 07 02 01 fa 56 ea 01 00`, NLRI),
    expect: { discard: /AS4_PATH is 7 bytes/, absent: '' },
  },
  {
    name: 'AS4_PATH segment with zero AS numbers',
    rfc: 'RFC 6793 §6',
    opts: AS2,
    bytes: update('', `${BASE_AS2} c0 11 06 02 00 fa 56 ea 01`, NLRI),
    expect: { discard: /zero AS numbers/, absent: '' },
  },
  {
    name: 'AS4_AGGREGATOR of 6 bytes',
    rfc: 'RFC 6793 §6',
    opts: AS2,
    bytes: update('', `${BASE_AS2} c0 12 06 fd e9 c0 00 02 01`, NLRI),
    expect: { discard: /AS4_AGGREGATOR is 6 bytes/, absent: 'aggregator' },
  },
  // ---------------- accepted ----------------
  {
    name: 'no NEXT_HOP when only MP_REACH_NLRI carries routes',
    rfc: 'RFC 4760 §3',
    opts: AS4,
    bytes: update('', `${V6_REACH} ${ORIGIN} ${AS_PATH4}`),
    expect: { accept: undefined },
  },
  {
    name: 'MP_REACH_NLRI for a family Tortie does not speak (L2VPN EVPN)',
    rfc: 'RFC 4760 §7 (ignored, logged)',
    opts: AS4,
    bytes: update('', `80 0e 09 00 19 46 04 c0 00 02 01 00 ${ORIGIN} ${AS_PATH4}`),
    expect: { accept: /does not speak/ },
  },
  {
    name: 'unknown optional non-transitive attribute',
    rfc: 'RFC 4271 §5 (quietly ignored)',
    opts: AS4,
    bytes: update('', `${BASE_ATTRS_AS4} 80 fe 01 00`, NLRI),
    expect: { accept: undefined },
  },
  {
    name: 'ROUTE-REFRESH for IPv4 multicast',
    rfc: 'RFC 2918 §4',
    opts: AS4,
    bytes: message(5, hx('00 01 00 02')),
    expect: { ignored: /does not speak/ },
  },
];
