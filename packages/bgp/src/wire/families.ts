// The table of address families: AFI/SAFI numbers, NLRI and next-hop encodings. Adding a family
// means adding a row here, not a branch elsewhere.
import { formatIpv6, maskIpv6, numberToIpv4, tryIpv4ToNumber, tryParseIpv6 } from './prefix.js';
import { Afi, type Family, type Nlri, type Prefix, Safi } from './types.js';

/** A structural error in an NLRI field; the caller decides which NOTIFICATION it becomes. */
export class MalformedNlriError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedNlriError';
  }
}

/** Next hop as carried in MP_REACH_NLRI (or, for IPv4, the NEXT_HOP attribute). */
export interface NextHopAddresses {
  readonly nextHop: string;
  readonly linkLocalNextHop?: string;
}

export interface FamilyCodec {
  readonly family: Family;
  readonly afi: number;
  readonly safi: number;
  /** Address width in bits (32 or 128). */
  readonly maxLength: number;
  /** Decodes the NLRI in buf[start, end); throws MalformedNlriError. */
  decodeNlri(buf: Uint8Array, start: number, end: number, addPath: boolean): Nlri[];
  /** Bytes one NLRI takes on the wire. */
  nlriWireLength(n: Nlri, addPath: boolean): number;
  /** Writes one NLRI at `offset`, returns the offset after it. */
  writeNlri(out: Uint8Array, offset: number, n: Nlri, addPath: boolean): number;
  /** Decodes an MP_REACH next-hop field; returns a reason string when malformed. */
  decodeNextHop(buf: Uint8Array, start: number, length: number): NextHopAddresses | string;
  /** The MP_REACH next-hop field for these addresses; throws Error for unparsable text. */
  encodeNextHop(nh: NextHopAddresses): Uint8Array;
}

function checkPathIdRoom(end: number, i: number): void {
  if (i + 4 > end) throw new MalformedNlriError(`path identifier at byte ${i} runs past the end of the NLRI field`);
}

const ipv4: FamilyCodec = {
  family: 'ipv4-unicast',
  afi: Afi.IPV4,
  safi: Safi.UNICAST,
  maxLength: 32,
  decodeNlri(buf, start, end, addPath) {
    const out: Nlri[] = [];
    let i = start;
    while (i < end) {
      let pathId = 0;
      if (addPath) {
        checkPathIdRoom(end, i);
        pathId = ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> 0;
        i += 4;
      }
      if (i >= end) throw new MalformedNlriError(`prefix length missing at byte ${i}`);
      const length = buf[i]!;
      if (length > 32) throw new MalformedNlriError(`IPv4 prefix length ${length} is more than 32`);
      const n = (length + 7) >> 3;
      if (i + 1 + n > end)
        throw new MalformedNlriError(`a /${length} prefix at byte ${i} runs past the end of the field`);
      let addr = 0;
      // Unrolled: no per-byte allocation, host bits masked.
      if (n > 0) addr = buf[i + 1]! << 24;
      if (n > 1) addr |= buf[i + 2]! << 16;
      if (n > 2) addr |= buf[i + 3]! << 8;
      if (n > 3) addr |= buf[i + 4]!;
      addr = length === 0 ? 0 : (addr & (0xffffffff << (32 - length))) >>> 0;
      i += 1 + n;
      const prefix: Prefix = { family: 'ipv4-unicast', addr, length };
      out.push(addPath ? { prefix, pathId } : { prefix });
    }
    return out;
  },
  nlriWireLength(n, addPath) {
    return (addPath ? 5 : 1) + ((n.prefix.length + 7) >> 3);
  },
  writeNlri(out, offset, n, addPath) {
    if (addPath) offset = writeU32(out, offset, n.pathId ?? 0);
    const p = n.prefix;
    if (p.family !== 'ipv4-unicast') throw new Error(`IPv6 prefix in IPv4 NLRI`);
    out[offset++] = p.length;
    const bytes = (p.length + 7) >> 3;
    const a = p.addr;
    if (bytes > 0) out[offset++] = a >>> 24;
    if (bytes > 1) out[offset++] = (a >>> 16) & 255;
    if (bytes > 2) out[offset++] = (a >>> 8) & 255;
    if (bytes > 3) out[offset++] = a & 255;
    return offset;
  },
  decodeNextHop(buf, start, length) {
    if (length !== 4) return `IPv4 next hop is ${length} bytes, expected 4`;
    return { nextHop: `${buf[start]}.${buf[start + 1]}.${buf[start + 2]}.${buf[start + 3]}` };
  },
  encodeNextHop(nh) {
    const n = tryIpv4ToNumber(nh.nextHop);
    if (n === undefined) throw new Error(`next hop ${JSON.stringify(nh.nextHop)} is not an IPv4 address`);
    const out = new Uint8Array(4);
    writeU32(out, 0, n);
    return out;
  },
};

const ipv6: FamilyCodec = {
  family: 'ipv6-unicast',
  afi: Afi.IPV6,
  safi: Safi.UNICAST,
  maxLength: 128,
  decodeNlri(buf, start, end, addPath) {
    const out: Nlri[] = [];
    let i = start;
    while (i < end) {
      let pathId = 0;
      if (addPath) {
        checkPathIdRoom(end, i);
        pathId = ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> 0;
        i += 4;
      }
      if (i >= end) throw new MalformedNlriError(`prefix length missing at byte ${i}`);
      const length = buf[i]!;
      if (length > 128) throw new MalformedNlriError(`IPv6 prefix length ${length} is more than 128`);
      const n = (length + 7) >> 3;
      if (i + 1 + n > end)
        throw new MalformedNlriError(`a /${length} prefix at byte ${i} runs past the end of the field`);
      const addr = new Uint8Array(16);
      addr.set(buf.subarray(i + 1, i + 1 + n));
      if (length & 7) addr[n - 1] = addr[n - 1]! & (0xff << (8 - (length & 7)));
      i += 1 + n;
      const prefix: Prefix = { family: 'ipv6-unicast', addr, length };
      out.push(addPath ? { prefix, pathId } : { prefix });
    }
    return out;
  },
  nlriWireLength(n, addPath) {
    return (addPath ? 5 : 1) + ((n.prefix.length + 7) >> 3);
  },
  writeNlri(out, offset, n, addPath) {
    if (addPath) offset = writeU32(out, offset, n.pathId ?? 0);
    const p = n.prefix;
    if (p.family !== 'ipv6-unicast') throw new Error(`IPv4 prefix in IPv6 NLRI`);
    out[offset++] = p.length;
    const bytes = (p.length + 7) >> 3;
    out.set(maskIpv6(p.addr, p.length).subarray(0, bytes), offset);
    return offset + bytes;
  },
  decodeNextHop(buf, start, length) {
    if (length !== 16 && length !== 32) return `IPv6 next hop is ${length} bytes, expected 16 or 32`;
    const nextHop = formatIpv6(buf, start);
    return length === 32 ? { nextHop, linkLocalNextHop: formatIpv6(buf, start + 16) } : { nextHop };
  },
  encodeNextHop(nh) {
    const g = tryParseIpv6(nh.nextHop);
    if (g === undefined) throw new Error(`next hop ${JSON.stringify(nh.nextHop)} is not an IPv6 address`);
    if (nh.linkLocalNextHop === undefined) return g;
    const ll = tryParseIpv6(nh.linkLocalNextHop);
    if (ll === undefined)
      throw new Error(`link-local next hop ${JSON.stringify(nh.linkLocalNextHop)} is not an IPv6 address`);
    const out = new Uint8Array(32);
    out.set(g);
    out.set(ll, 16);
    return out;
  },
};

/** Every family Tortie speaks. */
export const FAMILIES: readonly FamilyCodec[] = [ipv4, ipv6];

const byName = new Map<Family, FamilyCodec>(FAMILIES.map((f) => [f.family, f]));

/** The table row for a family name. */
export function familyCodec(family: Family): FamilyCodec {
  const f = byName.get(family);
  if (f === undefined) throw new Error(`unknown address family ${JSON.stringify(family)}`);
  return f;
}

/** The family for an AFI/SAFI pair, or undefined when Tortie does not speak it. */
export function familyFromAfiSafi(afi: number, safi: number): Family | undefined {
  for (const f of FAMILIES) if (f.afi === afi && f.safi === safi) return f.family;
  return undefined;
}

/** The AFI/SAFI pair of a family. */
export function afiSafi(family: Family): { readonly afi: number; readonly safi: number } {
  const f = familyCodec(family);
  return { afi: f.afi, safi: f.safi };
}

/** Writes a big-endian u32, returns the next offset. */
export function writeU32(out: Uint8Array, offset: number, v: number): number {
  out[offset] = v >>> 24;
  out[offset + 1] = (v >>> 16) & 255;
  out[offset + 2] = (v >>> 8) & 255;
  out[offset + 3] = v & 255;
  return offset + 4;
}

/** Reads a big-endian u32. */
export function readU32(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

/** Reads a big-endian u16. */
export function readU16(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 8) | buf[offset + 1]!;
}

/** 4 bytes -> dotted quad. */
export function readIpv4Text(buf: Uint8Array, offset: number): string {
  return numberToIpv4(readU32(buf, offset));
}
