// The table of path attributes: for each code its flags, decoder, encoder and the RFC 7606 action
// when it is malformed. decodePathAttributes walks the attribute field once per UPDATE.
import type { ByteWriter } from './bytes.js';
import { AS_TRANS } from './capabilities.js';
import { BgpError, NotificationCode, UpdateSubcode } from './errors.js';
import { familyCodec, familyFromAfiSafi, MalformedNlriError, readU16, readU32 } from './families.js';
import { numberToIpv4, tryIpv4ToNumber } from './prefix.js';
import {
  type AsPathSegment,
  AsPathSegmentType,
  type LargeCommunity,
  type MpReach,
  type MpUnreach,
  type Origin,
  type PathAttributes,
  type SessionCodecOptions,
  type UnknownAttribute,
} from './types.js';

export const AttrFlag = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED_LENGTH: 0x10 } as const;

export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
} as const;

/** RFC 1997 / IANA well-known communities. */
export const WellKnownCommunity = {
  GRACEFUL_SHUTDOWN: 0xffff0000,
  ACCEPT_OWN: 0xffff0001,
  LLGR_STALE: 0xffff0006,
  NO_LLGR: 0xffff0007,
  BLACKHOLE: 0xffff029a,
  NO_EXPORT: 0xffffff01,
  NO_ADVERTISE: 0xffffff02,
  NO_EXPORT_SUBCONFED: 0xffffff03,
  NOPEER: 0xffffff04,
} as const;

/** An RFC 1997 community from its two halves (asn:value) as the unsigned 32-bit number PathAttributes holds. */
export function community(asn: number, value: number): number {
  return asn * 65536 + value;
}

/** '65000:100' for a community number. */
export function formatCommunity(c: number): string {
  return `${Math.floor(c / 65536)}:${c % 65536}`;
}

/** RFC 7606 §2 approaches. */
export const ErrorAction = {
  SESSION_RESET: 'session-reset',
  TREAT_AS_WITHDRAW: 'treat-as-withdraw',
  ATTRIBUTE_DISCARD: 'attribute-discard',
} as const;
export type ErrorAction = (typeof ErrorAction)[keyof typeof ErrorAction];

/** Attributes being decoded (mutable), including the AS4 ones merged away at the end. */
export interface AttributeDraft {
  origin?: Origin;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  communities?: number[];
  extendedCommunities?: Uint8Array[];
  largeCommunities?: LargeCommunity[];
  originatorId?: string;
  clusterList?: string[];
  unknown?: UnknownAttribute[];
}

/** Per-UPDATE decoding state; what is not a PathAttributes field lives here, not in the draft. */
interface DecodeCtx {
  readonly opts: SessionCodecOptions;
  readonly draft: AttributeDraft;
  readonly warnings: string[];
  mpReach: MpReach | undefined;
  mpUnreach: MpUnreach | undefined;
  as4Path: AsPathSegment[] | undefined;
  as4Aggregator: { asn: number; address: string } | undefined;
}

/** One row of the attribute table. */
export interface AttributeSpec {
  readonly code: number;
  readonly name: string;
  /** Optional and Transitive bits as the RFC fixes them. */
  readonly flags: number;
  /** What RFC 7606 says to do when this attribute is malformed. */
  readonly onError: ErrorAction;
  /** NOTIFICATION subcode when onError is session-reset. */
  readonly resetSubcode?: number;
  /** Reads the value in buf[start, start+len); returns a reason when malformed. */
  decode(buf: Uint8Array, start: number, len: number, ctx: DecodeCtx): string | undefined;
  /**
   * Writes the value to send into `w` and returns true, or returns false (writing nothing) when
   * the attribute is absent. MP attributes are written by update.ts.
   */
  encode?(a: PathAttributes, opts: SessionCodecOptions, w: ByteWriter): boolean;
}

const WELL_KNOWN = AttrFlag.TRANSITIVE;
const OPT_TRANS = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;
const OPT_NON_TRANS = AttrFlag.OPTIONAL;

function ipv4Number(text: string, what: string): number {
  const n = tryIpv4ToNumber(text);
  if (n === undefined) throw new RangeError(`${what} ${JSON.stringify(text)} is not an IPv4 address`);
  return n;
}

function writeU32If(w: ByteWriter, v: number | undefined): boolean {
  if (v === undefined) return false;
  w.u32(v);
  return true;
}

/** Reads AS_PATH-style segments; returns a reason when malformed. */
// The last few NEXT_HOP texts: most UPDATEs of a session share a next hop, and a route table
// keeps one attribute set per path, so sharing the string saves one per set.
const NH_CACHE = 8;
const nhNum = new Float64Array(NH_CACHE).fill(-1);
const nhText: string[] = new Array<string>(NH_CACHE).fill('');
let nhNext = 0;

function nextHopText(n: number): string {
  for (let i = 0; i < NH_CACHE; i++) if (nhNum[i] === n) return nhText[i]!;
  const t = numberToIpv4(n);
  nhNum[nhNext] = n;
  nhText[nhNext] = t;
  nhNext = (nhNext + 1) % NH_CACHE;
  return t;
}

function decodeSegments(
  buf: Uint8Array,
  start: number,
  len: number,
  asBytes: 2 | 4,
  out: AsPathSegment[],
): string | undefined {
  const end = start + len;
  let i = start;
  while (i < end) {
    if (i + 2 > end) return `segment header at byte ${i - start} is truncated`;
    const type = buf[i]!;
    const count = buf[i + 1]!;
    if (type < 1 || type > 4) return `segment type ${type} is not SET, SEQUENCE, CONFED_SEQUENCE or CONFED_SET`;
    if (count === 0) return 'segment with zero AS numbers';
    i += 2;
    if (i + count * asBytes > end) return `segment of ${count} AS numbers runs past the attribute`;
    const asns: number[] = new Array(count);
    if (asBytes === 4) for (let k = 0; k < count; k++, i += 4) asns[k] = readU32(buf, i);
    else for (let k = 0; k < count; k++, i += 2) asns[k] = readU16(buf, i);
    out.push({ type: type as AsPathSegment['type'], asns });
  }
  return undefined;
}

function encodeSegments(w: ByteWriter, segs: readonly AsPathSegment[], asBytes: 2 | 4, skipConfed: boolean): void {
  for (const s of segs) {
    if (skipConfed && (s.type === AsPathSegmentType.CONFED_SEQUENCE || s.type === AsPathSegmentType.CONFED_SET))
      continue;
    for (let off = 0; off < s.asns.length || (off === 0 && s.asns.length === 0); off += 255) {
      const part = s.asns.slice(off, off + 255);
      if (part.length === 0) break; // empty segments are not sent
      w.u8(s.type);
      w.u8(part.length);
      for (const asn of part) {
        if (asBytes === 4) w.u32(asn);
        else w.u16(asn > 0xffff ? AS_TRANS : asn);
      }
    }
  }
}

/** True when a SEQUENCE or SET holds an AS beyond 2 octets (confederation segments never go in AS4_PATH). */
function needsFourOctets(segs: readonly AsPathSegment[]): boolean {
  for (const s of segs) {
    if (s.type === AsPathSegmentType.CONFED_SEQUENCE || s.type === AsPathSegmentType.CONFED_SET) continue;
    for (const a of s.asns) if (a > 0xffff) return true;
  }
  return false;
}

/** RFC 6793 §4.2.3 path length: SET counts 1, confederation segments 0. */
function pathCount(segs: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segs) {
    if (s.type === AsPathSegmentType.SEQUENCE) n += s.asns.length;
    else if (s.type === AsPathSegmentType.SET) n += 1;
  }
  return n;
}

/**
 * RFC 6793 §4.2.3: rebuild the 4-octet path from a 2-octet peer's AS_PATH and AS4_PATH. When
 * AS_PATH is shorter than AS4_PATH, AS4_PATH is ignored; else the leading AS numbers of AS_PATH
 * that AS4_PATH does not cover are kept in front of AS4_PATH.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  const n = pathCount(asPath);
  const m = pathCount(as4Path);
  if (n < m) return [...asPath];
  let need = n - m;
  const out: AsPathSegment[] = [];
  for (const s of asPath) {
    const confed = s.type === AsPathSegmentType.CONFED_SEQUENCE || s.type === AsPathSegmentType.CONFED_SET;
    // leading confederation segments count 0 and never appear in AS4_PATH: keep them
    if (need === 0 && !confed) break;
    if (s.type === AsPathSegmentType.SEQUENCE) {
      const take = Math.min(need, s.asns.length);
      out.push({ type: s.type, asns: s.asns.slice(0, take) });
      need -= take;
    } else {
      out.push(s);
      if (s.type === AsPathSegmentType.SET) need -= 1;
    }
  }
  // the AS numbers an OLD speaker prepended continue the first AS4_PATH sequence
  const last = out[out.length - 1];
  const first = as4Path[0];
  if (
    last !== undefined &&
    first !== undefined &&
    last.type === AsPathSegmentType.SEQUENCE &&
    first.type === AsPathSegmentType.SEQUENCE
  ) {
    out[out.length - 1] = { type: last.type, asns: [...last.asns, ...first.asns] };
    for (let k = 1; k < as4Path.length; k++) out.push(as4Path[k]!);
  } else out.push(...as4Path);
  return out;
}

function writeAggregator(w: ByteWriter, asn: number, address: string, asBytes: 2 | 4): true {
  if (asBytes === 4) w.u32(asn);
  else w.u16(asn > 0xffff ? AS_TRANS : asn);
  w.u32(ipv4Number(address, 'aggregator address'));
  return true;
}

function decodeMpNlri(
  buf: Uint8Array,
  start: number,
  end: number,
  family: MpReach['family'],
  opts: SessionCodecOptions,
): MpReach['nlri'] | string {
  try {
    return familyCodec(family).decodeNlri(buf, start, end, opts.addPathReceive.has(family));
  } catch (e) {
    if (e instanceof MalformedNlriError) return e.message;
    throw e;
  }
}

/** The attribute table. */
export const ATTRIBUTES: readonly AttributeSpec[] = [
  {
    code: AttrType.ORIGIN,
    name: 'ORIGIN',
    flags: WELL_KNOWN,
    onError: 'treat-as-withdraw',
    decode(buf, start, len, ctx) {
      if (len !== 1) return `ORIGIN is ${len} bytes, expected 1`;
      const v = buf[start]!;
      if (v > 2) return `ORIGIN value ${v} is not IGP, EGP or INCOMPLETE`;
      ctx.draft.origin = v as Origin;
      return undefined;
    },
    encode(a, _o, w) {
      if (a.origin === undefined) return false;
      w.u8(a.origin);
      return true;
    },
  },
  {
    code: AttrType.AS_PATH,
    name: 'AS_PATH',
    flags: WELL_KNOWN,
    onError: 'treat-as-withdraw',
    decode(buf, start, len, ctx) {
      const segs: AsPathSegment[] = [];
      const reason = decodeSegments(buf, start, len, ctx.opts.fourOctetAs ? 4 : 2, segs);
      if (reason !== undefined) return `AS_PATH: ${reason}`;
      // exact capacity: decoded paths are kept by the RIB, one per attribute set
      ctx.draft.asPath = segs.length === 1 ? [segs[0]!] : segs.slice();
      return undefined;
    },
    encode(a, opts, w) {
      if (a.asPath === undefined) return false;
      encodeSegments(w, a.asPath, opts.fourOctetAs ? 4 : 2, false);
      return true;
    },
  },
  {
    code: AttrType.NEXT_HOP,
    name: 'NEXT_HOP',
    flags: WELL_KNOWN,
    onError: 'treat-as-withdraw',
    decode(buf, start, len, ctx) {
      if (len !== 4) return `NEXT_HOP is ${len} bytes, expected 4`;
      ctx.draft.nextHop = nextHopText(readU32(buf, start));
      return undefined;
    },
    encode: (a, _o, w) => writeU32If(w, a.nextHop === undefined ? undefined : ipv4Number(a.nextHop, 'NEXT_HOP')),
  },
  {
    code: AttrType.MULTI_EXIT_DISC,
    name: 'MULTI_EXIT_DISC',
    flags: OPT_NON_TRANS,
    onError: 'treat-as-withdraw',
    decode(buf, start, len, ctx) {
      if (len !== 4) return `MULTI_EXIT_DISC is ${len} bytes, expected 4`;
      ctx.draft.med = readU32(buf, start);
      return undefined;
    },
    encode: (a, _o, w) => writeU32If(w, a.med),
  },
  {
    code: AttrType.LOCAL_PREF,
    name: 'LOCAL_PREF',
    flags: WELL_KNOWN,
    onError: 'treat-as-withdraw',
    decode(buf, start, len, ctx) {
      if (len !== 4) return `LOCAL_PREF is ${len} bytes, expected 4`;
      ctx.draft.localPref = readU32(buf, start);
      return undefined;
    },
    encode: (a, _o, w) => writeU32If(w, a.localPref),
  },
  {
    code: AttrType.ATOMIC_AGGREGATE,
    name: 'ATOMIC_AGGREGATE',
    flags: WELL_KNOWN,
    onError: 'attribute-discard',
    decode(_buf, _start, len, ctx) {
      if (len !== 0) return `ATOMIC_AGGREGATE is ${len} bytes, expected 0`;
      ctx.draft.atomicAggregate = true;
      return undefined;
    },
    encode: (a) => a.atomicAggregate === true,
  },
  {
    code: AttrType.AGGREGATOR,
    name: 'AGGREGATOR',
    flags: OPT_TRANS,
    onError: 'attribute-discard',
    decode(buf, start, len, ctx) {
      const asBytes = ctx.opts.fourOctetAs ? 4 : 2;
      if (len !== asBytes + 4) return `AGGREGATOR is ${len} bytes, expected ${asBytes + 4}`;
      const asn = asBytes === 4 ? readU32(buf, start) : readU16(buf, start);
      if (asn === 0) return 'AGGREGATOR carries AS 0 (RFC 7607)';
      ctx.draft.aggregator = { asn, address: numberToIpv4(readU32(buf, start + asBytes)) };
      return undefined;
    },
    encode: (a, opts, w) =>
      a.aggregator !== undefined &&
      writeAggregator(w, a.aggregator.asn, a.aggregator.address, opts.fourOctetAs ? 4 : 2),
  },
  {
    code: AttrType.COMMUNITIES,
    name: 'COMMUNITIES',
    flags: OPT_TRANS,
    onError: 'treat-as-withdraw',
    decode(buf, start, len, ctx) {
      if (len === 0 || len % 4 !== 0) return `COMMUNITIES is ${len} bytes, not a non-zero multiple of 4`;
      const out: number[] = new Array(len / 4);
      for (let k = 0; k < out.length; k++) out[k] = readU32(buf, start + 4 * k);
      ctx.draft.communities = out;
      return undefined;
    },
    encode(a, _o, w) {
      if (a.communities === undefined || a.communities.length === 0) return false;
      for (const c of a.communities) w.u32(c);
      return true;
    },
  },
  {
    code: AttrType.ORIGINATOR_ID,
    name: 'ORIGINATOR_ID',
    flags: OPT_NON_TRANS,
    onError: 'treat-as-withdraw',
    decode(buf, start, len, ctx) {
      if (len !== 4) return `ORIGINATOR_ID is ${len} bytes, expected 4`;
      ctx.draft.originatorId = numberToIpv4(readU32(buf, start));
      return undefined;
    },
    encode: (a, _o, w) =>
      writeU32If(w, a.originatorId === undefined ? undefined : ipv4Number(a.originatorId, 'ORIGINATOR_ID')),
  },
  {
    code: AttrType.CLUSTER_LIST,
    name: 'CLUSTER_LIST',
    flags: OPT_NON_TRANS,
    onError: 'treat-as-withdraw',
    decode(buf, start, len, ctx) {
      if (len === 0 || len % 4 !== 0) return `CLUSTER_LIST is ${len} bytes, not a non-zero multiple of 4`;
      const out: string[] = [];
      for (let k = 0; k < len; k += 4) out.push(numberToIpv4(readU32(buf, start + k)));
      ctx.draft.clusterList = out;
      return undefined;
    },
    encode(a, _o, w) {
      if (a.clusterList === undefined || a.clusterList.length === 0) return false;
      for (const c of a.clusterList) w.u32(ipv4Number(c, 'CLUSTER_LIST entry'));
      return true;
    },
  },
  {
    code: AttrType.MP_REACH_NLRI,
    name: 'MP_REACH_NLRI',
    flags: OPT_NON_TRANS,
    onError: 'session-reset',
    resetSubcode: UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
    decode(buf, start, len, ctx) {
      if (len < 5) return `MP_REACH_NLRI is ${len} bytes, at least 5 needed`;
      const afi = readU16(buf, start);
      const safi = buf[start + 2]!;
      const family = familyFromAfiSafi(afi, safi);
      if (family === undefined) {
        ctx.warnings.push(`MP_REACH_NLRI for AFI ${afi} SAFI ${safi}, a family Tortie does not speak: ignored`);
        return undefined;
      }
      const nhLen = buf[start + 3]!;
      if (4 + nhLen + 1 > len) return `MP_REACH_NLRI next hop of ${nhLen} bytes runs past the attribute`;
      const nh = familyCodec(family).decodeNextHop(buf, start + 4, nhLen);
      if (typeof nh === 'string') return `MP_REACH_NLRI: ${nh}`;
      const nlri = decodeMpNlri(buf, start + 5 + nhLen, start + len, family, ctx.opts);
      if (typeof nlri === 'string') return `MP_REACH_NLRI NLRI: ${nlri}`;
      ctx.mpReach =
        nh.linkLocalNextHop === undefined
          ? { family, nextHop: nh.nextHop, nlri }
          : { family, nextHop: nh.nextHop, linkLocalNextHop: nh.linkLocalNextHop, nlri };
      return undefined;
    },
  },
  {
    code: AttrType.MP_UNREACH_NLRI,
    name: 'MP_UNREACH_NLRI',
    flags: OPT_NON_TRANS,
    onError: 'session-reset',
    resetSubcode: UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
    decode(buf, start, len, ctx) {
      if (len < 3) return `MP_UNREACH_NLRI is ${len} bytes, at least 3 needed`;
      const afi = readU16(buf, start);
      const safi = buf[start + 2]!;
      const family = familyFromAfiSafi(afi, safi);
      if (family === undefined) {
        ctx.warnings.push(`MP_UNREACH_NLRI for AFI ${afi} SAFI ${safi}, a family Tortie does not speak: ignored`);
        return undefined;
      }
      const withdrawn = decodeMpNlri(buf, start + 3, start + len, family, ctx.opts);
      if (typeof withdrawn === 'string') return `MP_UNREACH_NLRI NLRI: ${withdrawn}`;
      ctx.mpUnreach = { family, withdrawn };
      return undefined;
    },
  },
  {
    code: AttrType.EXTENDED_COMMUNITIES,
    name: 'EXTENDED_COMMUNITIES',
    flags: OPT_TRANS,
    onError: 'treat-as-withdraw',
    decode(buf, start, len, ctx) {
      if (len === 0 || len % 8 !== 0) return `EXTENDED_COMMUNITIES is ${len} bytes, not a non-zero multiple of 8`;
      const out: Uint8Array[] = [];
      for (let k = 0; k < len; k += 8) out.push(buf.slice(start + k, start + k + 8));
      ctx.draft.extendedCommunities = out;
      return undefined;
    },
    encode(a, _o, w) {
      if (a.extendedCommunities === undefined || a.extendedCommunities.length === 0) return false;
      for (const c of a.extendedCommunities) {
        if (c.length !== 8) throw new RangeError(`extended community of ${c.length} bytes, expected 8`);
        w.bytes(c);
      }
      return true;
    },
  },
  {
    code: AttrType.AS4_PATH,
    name: 'AS4_PATH',
    flags: OPT_TRANS,
    onError: 'attribute-discard',
    decode(buf, start, len, ctx) {
      if (ctx.opts.fourOctetAs) {
        ctx.warnings.push('AS4_PATH from a 4-octet AS peer: discarded (RFC 6793 §6)');
        return undefined;
      }
      if (len < 6 || len % 2 !== 0) return `AS4_PATH is ${len} bytes: too short or odd`;
      const segs: AsPathSegment[] = [];
      const reason = decodeSegments(buf, start, len, 4, segs);
      if (reason !== undefined) return `AS4_PATH: ${reason}`;
      const kept = segs.filter((s) => s.type === AsPathSegmentType.SEQUENCE || s.type === AsPathSegmentType.SET);
      if (kept.length !== segs.length)
        ctx.warnings.push('AS4_PATH carried confederation segments: those segments discarded (RFC 6793 §6)');
      ctx.as4Path = kept;
      return undefined;
    },
    encode(a, opts, w) {
      if (opts.fourOctetAs || a.asPath === undefined || !needsFourOctets(a.asPath)) return false;
      encodeSegments(w, a.asPath, 4, true);
      return true;
    },
  },
  {
    code: AttrType.AS4_AGGREGATOR,
    name: 'AS4_AGGREGATOR',
    flags: OPT_TRANS,
    onError: 'attribute-discard',
    decode(buf, start, len, ctx) {
      if (ctx.opts.fourOctetAs) {
        ctx.warnings.push('AS4_AGGREGATOR from a 4-octet AS peer: discarded (RFC 6793 §6)');
        return undefined;
      }
      if (len !== 8) return `AS4_AGGREGATOR is ${len} bytes, expected 8`;
      const asn = readU32(buf, start);
      if (asn === 0) return 'AS4_AGGREGATOR carries AS 0 (RFC 7607)';
      ctx.as4Aggregator = { asn, address: numberToIpv4(readU32(buf, start + 4)) };
      return undefined;
    },
    encode(a, opts, w) {
      if (opts.fourOctetAs || a.aggregator === undefined || a.aggregator.asn <= 0xffff) return false;
      return writeAggregator(w, a.aggregator.asn, a.aggregator.address, 4);
    },
  },
  {
    code: AttrType.LARGE_COMMUNITY,
    name: 'LARGE_COMMUNITY',
    flags: OPT_TRANS,
    onError: 'treat-as-withdraw',
    decode(buf, start, len, ctx) {
      if (len === 0 || len % 12 !== 0) return `LARGE_COMMUNITY is ${len} bytes, not a non-zero multiple of 12`;
      const out: LargeCommunity[] = [];
      for (let k = start; k < start + len; k += 12)
        out.push({ global: readU32(buf, k), local1: readU32(buf, k + 4), local2: readU32(buf, k + 8) });
      ctx.draft.largeCommunities = out;
      return undefined;
    },
    encode(a, _o, w) {
      if (a.largeCommunities === undefined || a.largeCommunities.length === 0) return false;
      for (const c of a.largeCommunities) {
        w.u32(c.global);
        w.u32(c.local1);
        w.u32(c.local2);
      }
      return true;
    },
  },
];

/** The table indexed by code (undefined for codes Tortie does not interpret). */
const SPEC_BY_CODE: readonly (AttributeSpec | undefined)[] = (() => {
  const t: (AttributeSpec | undefined)[] = new Array(256).fill(undefined);
  for (const s of ATTRIBUTES) t[s.code] = s;
  return t;
})();

export function attributeSpec(code: number): AttributeSpec | undefined {
  return SPEC_BY_CODE[code];
}

export interface AttributesOutcome {
  readonly attributes: PathAttributes;
  readonly mpReach: MpReach | undefined;
  readonly mpUnreach: MpUnreach | undefined;
  /** Set when RFC 7606 says treat-as-withdraw. */
  readonly withdrawReason: string | undefined;
  readonly warnings: string[];
}

function attrBytes(buf: Uint8Array, from: number, to: number): Uint8Array {
  return buf.slice(from, to);
}

// Reused across calls: generation-stamped "seen" marks for duplicate detection without allocation.
const seen = new Uint32Array(256);
let generation = 0;

/**
 * Decodes the path attribute field buf[start, end). Throws BgpError for the RFC 7606 "session
 * reset" cases; reports treat-as-withdraw and attribute-discard in the outcome.
 */
export function decodePathAttributes(
  buf: Uint8Array,
  start: number,
  end: number,
  opts: SessionCodecOptions,
): AttributesOutcome {
  generation = (generation + 1) >>> 0;
  if (generation === 0) {
    seen.fill(0);
    generation = 1;
  }
  const draft: AttributeDraft = {};
  const warnings: string[] = [];
  const ctx: DecodeCtx = {
    opts,
    draft,
    warnings,
    mpReach: undefined,
    mpUnreach: undefined,
    as4Path: undefined,
    as4Aggregator: undefined,
  };
  let withdrawReason: string | undefined;
  let i = start;
  while (i < end) {
    const hdrStart = i;
    if (i + 3 > end) {
      withdrawReason ??= `${end - i} trailing byte(s) in the path attributes, too few for an attribute header`;
      break;
    }
    const flags = buf[i]!;
    const code = buf[i + 1]!;
    const ext = (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
    if (i + (ext ? 4 : 3) > end) {
      withdrawReason ??= `attribute ${code} header at byte ${i - start} is truncated`;
      break;
    }
    const len = ext ? readU16(buf, i + 2) : buf[i + 2]!;
    const vStart = i + (ext ? 4 : 3);
    const vEnd = vStart + len;
    if (vEnd > end) {
      // RFC 7606 §4: the Total Path Attribute Length still locates the NLRI.
      withdrawReason ??= `attribute ${code} of ${len} bytes runs past the path attributes`;
      break;
    }
    i = vEnd;
    const spec = SPEC_BY_CODE[code];
    if (seen[code] === generation) {
      if (code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI)
        throw new BgpError(
          NotificationCode.UPDATE_MESSAGE_ERROR,
          UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
          `${spec?.name ?? code} appears more than once`,
        );
      warnings.push(`attribute ${spec?.name ?? code} appears more than once: all but the first discarded`);
      continue;
    }
    seen[code] = generation;
    if (spec === undefined) {
      if ((flags & AttrFlag.OPTIONAL) === 0)
        throw new BgpError(
          NotificationCode.UPDATE_MESSAGE_ERROR,
          UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
          `attribute ${code} is marked well-known but Tortie does not know it`,
          attrBytes(buf, hdrStart, vEnd),
        );
      if ((flags & AttrFlag.TRANSITIVE) !== 0) {
        const u: UnknownAttribute = {
          flags: (flags | AttrFlag.PARTIAL) & ~AttrFlag.EXTENDED_LENGTH & 0xf0,
          code,
          value: buf.slice(vStart, vEnd),
        };
        if (draft.unknown === undefined) draft.unknown = [u];
        else draft.unknown.push(u);
      }
      continue;
    }
    let reason: string | undefined;
    const expected = spec.flags;
    if ((flags & 0xc0) !== expected)
      reason = `${spec.name} flags 0x${flags.toString(16)}: Optional/Transitive must be ${expected & 0x80 ? 1 : 0}/${expected & 0x40 ? 1 : 0}`;
    else if ((flags & AttrFlag.PARTIAL) !== 0 && (expected & AttrFlag.OPTIONAL) === 0)
      reason = `${spec.name} is well-known but has the Partial bit set`;
    else if ((flags & AttrFlag.PARTIAL) !== 0 && (expected & AttrFlag.TRANSITIVE) === 0)
      reason = `${spec.name} is optional non-transitive but has the Partial bit set`;
    const flagError = reason !== undefined;
    if (!flagError) reason = spec.decode(buf, vStart, len, ctx);
    if (reason === undefined) continue;
    switch (spec.onError) {
      case 'session-reset':
        throw new BgpError(
          NotificationCode.UPDATE_MESSAGE_ERROR,
          flagError
            ? UpdateSubcode.ATTRIBUTE_FLAGS_ERROR
            : (spec.resetSubcode ?? UpdateSubcode.MALFORMED_ATTRIBUTE_LIST),
          reason,
          attrBytes(buf, hdrStart, vEnd),
        );
      case 'treat-as-withdraw':
        withdrawReason ??= reason;
        break;
      case 'attribute-discard':
        warnings.push(`${reason}: attribute discarded`);
        break;
    }
  }

  // RFC 6793 §4.2.3: from a 2-octet peer, rebuild 4-octet AS numbers.
  if (!opts.fourOctetAs && (ctx.as4Path !== undefined || ctx.as4Aggregator !== undefined)) {
    const useAs4 = draft.aggregator === undefined || draft.aggregator.asn === AS_TRANS;
    if (!useAs4)
      warnings.push('AGGREGATOR carries a 2-octet AS other than AS_TRANS: AS4_PATH and AS4_AGGREGATOR ignored');
    if (useAs4 && ctx.as4Aggregator !== undefined) draft.aggregator = ctx.as4Aggregator;
    if (useAs4 && ctx.as4Path !== undefined && draft.asPath !== undefined) {
      if (pathCount(draft.asPath) < pathCount(ctx.as4Path))
        warnings.push('AS_PATH is shorter than AS4_PATH: AS4_PATH ignored (RFC 6793 §4.2.3)');
      draft.asPath = mergeAs4Path(draft.asPath, ctx.as4Path);
    }
  }
  return { attributes: draft, mpReach: ctx.mpReach, mpUnreach: ctx.mpUnreach, withdrawReason, warnings };
}

const NONE: readonly UnknownAttribute[] = [];

/** Writes one attribute (flags, type, length, value), setting Extended Length when needed. */
export function writeAttribute(w: ByteWriter, flags: number, code: number, value: Uint8Array): void {
  const ext = value.length > 255;
  w.u8((flags & 0xe0) | (ext ? AttrFlag.EXTENDED_LENGTH : 0));
  w.u8(code);
  if (ext) w.u16(value.length);
  else w.u8(value.length);
  w.bytes(value);
}

/**
 * Writes every attribute of `a` except MP_REACH/MP_UNREACH, in type-code order, towards a peer
 * with `opts` (2-octet peers get AS_TRANS plus AS4_PATH/AS4_AGGREGATOR). Unknown transitive
 * attributes are passed on with the Partial bit.
 */
export function encodePathAttributes(
  a: PathAttributes,
  opts: SessionCodecOptions,
  w: ByteWriter,
  nextHopOverride?: string,
): void {
  const unknown =
    a.unknown === undefined || a.unknown.length === 0 ? NONE : [...a.unknown].sort((x, y) => x.code - y.code);
  const attrs = nextHopOverride === undefined ? a : withNextHop(a, nextHopOverride);
  let u = 0;
  for (const spec of ATTRIBUTES) {
    while (u < unknown.length && unknown[u]!.code < spec.code) writeUnknown(w, unknown[u++]!);
    if (spec.encode === undefined) continue;
    const hdr = w.pos;
    w.ensure(3);
    w.pos += 3;
    if (!spec.encode(attrs, opts, w)) {
      w.pos = hdr;
      continue;
    }
    const len = w.pos - hdr - 3;
    if (len > 255) {
      // move the value one byte on to make room for the 2-byte length
      w.ensure(1);
      w.buf.copyWithin(hdr + 4, hdr + 3, w.pos);
      w.pos++;
      w.buf[hdr] = (spec.flags & 0xe0) | AttrFlag.EXTENDED_LENGTH;
      w.buf[hdr + 2] = len >>> 8;
      w.buf[hdr + 3] = len & 255;
    } else {
      w.buf[hdr] = spec.flags & 0xe0;
      w.buf[hdr + 2] = len;
    }
    w.buf[hdr + 1] = spec.code;
  }
  while (u < unknown.length) writeUnknown(w, unknown[u++]!);
}

/** `a` with another NEXT_HOP, without copying the object when it already has that one. */
function withNextHop(a: PathAttributes, nextHop: string): PathAttributes {
  return a.nextHop === nextHop ? a : { ...a, nextHop };
}

function writeUnknown(w: ByteWriter, x: UnknownAttribute): void {
  if (SPEC_BY_CODE[x.code] !== undefined) return; // never let an "unknown" shadow one we encode ourselves
  if ((x.flags & AttrFlag.OPTIONAL) === 0 || (x.flags & AttrFlag.TRANSITIVE) === 0) return;
  writeAttribute(w, x.flags | AttrFlag.PARTIAL, x.code, x.value);
}
