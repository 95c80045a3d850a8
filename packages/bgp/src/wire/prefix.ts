// Address and prefix helpers: text <-> compact form (IPv4 as an unsigned 32-bit number,
// IPv6 as 16 bytes), and the packed IPv4 prefix form used by the fast decode path.
import type { Prefix } from './types.js';

/** A malformed address or prefix in text (configuration, CLI, tests): not a wire error. */
export class PrefixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrefixError';
  }
}

/** '10.1.2.3' -> 167838211. Throws PrefixError for anything but four decimal octets. */
export function ipv4ToNumber(text: string): number {
  const n = tryIpv4ToNumber(text);
  if (n === undefined) throw new PrefixError(`${JSON.stringify(text)} is not an IPv4 address (expected a.b.c.d)`);
  return n;
}

/** Like ipv4ToNumber, undefined instead of throwing. */
export function tryIpv4ToNumber(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
      if (dots > 3) return undefined;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined; // leading zero
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + octet;
}

/** 167838211 -> '10.1.2.3'. */
export function numberToIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Parses IPv6 text (with :: and an optional embedded IPv4 tail) into 16 bytes, or undefined. */
export function tryParseIpv6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const out = new Uint8Array(16);
  const dbl = text.indexOf('::');
  if (dbl !== -1 && text.indexOf('::', dbl + 1) !== -1) return undefined;
  const head = dbl === -1 ? text : text.slice(0, dbl);
  const tail = dbl === -1 ? '' : text.slice(dbl + 2);
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const words: number[] = [];
  const tailWords: number[] = [];
  const parseGroups = (groups: string[], into: number[], last: boolean): boolean => {
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (last && i === groups.length - 1 && g.includes('.')) {
        const v4 = tryIpv4ToNumber(g);
        if (v4 === undefined) return false;
        into.push(v4 >>> 16, v4 & 0xffff);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
      into.push(Number.parseInt(g, 16));
    }
    return true;
  };
  if (!parseGroups(headGroups, words, dbl === -1)) return undefined;
  if (!parseGroups(tailGroups, tailWords, true)) return undefined;
  if (dbl === -1) {
    if (words.length !== 8) return undefined;
  } else if (words.length + tailWords.length > 7) return undefined;
  for (let i = 0; i < words.length; i++) {
    out[i * 2] = words[i]! >>> 8;
    out[i * 2 + 1] = words[i]! & 255;
  }
  const start = 8 - tailWords.length;
  for (let i = 0; i < tailWords.length; i++) {
    out[(start + i) * 2] = tailWords[i]! >>> 8;
    out[(start + i) * 2 + 1] = tailWords[i]! & 255;
  }
  return out;
}

/** IPv6 text -> 16 bytes; throws PrefixError. */
export function parseIpv6(text: string): Uint8Array {
  const b = tryParseIpv6(text);
  if (b === undefined) throw new PrefixError(`${JSON.stringify(text)} is not an IPv6 address`);
  return b;
}

/** 16 bytes (from `offset`) -> RFC 5952 text (lower case, longest zero run as ::). */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(((bytes[offset + i * 2] ?? 0) << 8) | (bytes[offset + i * 2 + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number, b: number) =>
    w
      .slice(a, b)
      .map((x) => x.toString(16))
      .join(':');
  if (bestStart === -1) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** Netmask of an IPv4 prefix length as an unsigned number. */
export function ipv4Mask(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

/**
 * '10.0.0.0/24' or '2001:db8::/32' -> Prefix. Throws PrefixError naming the problem: bad address,
 * bad length, or host bits set beyond the length.
 */
export function parsePrefix(text: string): Prefix {
  const slash = text.indexOf('/');
  if (slash === -1) throw new PrefixError(`${JSON.stringify(text)} is not a prefix: expected ADDRESS/LENGTH`);
  const addrText = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText))
    throw new PrefixError(`${JSON.stringify(text)}: prefix length ${JSON.stringify(lenText)} is not a number`);
  const length = Number(lenText);
  if (addrText.includes(':')) {
    const addr = tryParseIpv6(addrText);
    if (addr === undefined) throw new PrefixError(`${JSON.stringify(text)}: ${addrText} is not an IPv6 address`);
    if (length > 128) throw new PrefixError(`${JSON.stringify(text)}: IPv6 prefix length must be 0..128`);
    if (!ipv6HostBitsZero(addr, length)) {
      const fixed = maskIpv6(addr, length);
      throw new PrefixError(
        `${JSON.stringify(text)} has host bits set beyond /${length}; did you mean ${formatIpv6(fixed)}/${length}?`,
      );
    }
    return { family: 'ipv6-unicast', addr, length };
  }
  const addr = tryIpv4ToNumber(addrText);
  if (addr === undefined) throw new PrefixError(`${JSON.stringify(text)}: ${addrText} is not an IPv4 address`);
  if (length > 32) throw new PrefixError(`${JSON.stringify(text)}: IPv4 prefix length must be 0..32`);
  const masked = (addr & ipv4Mask(length)) >>> 0;
  if (masked !== addr)
    throw new PrefixError(
      `${JSON.stringify(text)} has host bits set beyond /${length}; did you mean ${numberToIpv4(masked)}/${length}?`,
    );
  return { family: 'ipv4-unicast', addr, length };
}

/** Prefix -> '10.0.0.0/24' / '2001:db8::/32'. */
export function formatPrefix(p: Prefix): string {
  return p.family === 'ipv4-unicast' ? `${numberToIpv4(p.addr)}/${p.length}` : `${formatIpv6(p.addr)}/${p.length}`;
}

/** Copy of `addr` with the bits beyond `length` cleared. */
export function maskIpv6(addr: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(16);
  const full = length >> 3;
  out.set(addr.subarray(0, full));
  if (length & 7 && full < 16) out[full] = (addr[full] ?? 0) & (0xff << (8 - (length & 7)));
  return out;
}

function ipv6HostBitsZero(addr: Uint8Array, length: number): boolean {
  const full = length >> 3;
  if (length & 7 && ((addr[full] ?? 0) & (0xff >> (length & 7))) !== 0) return false;
  for (let i = full + (length & 7 ? 1 : 0); i < 16; i++) if (addr[i] !== 0) return false;
  return true;
}

/** Packed IPv4 prefix (addr * 64 + length), exact in a double: the fast path's currency. */
export function packIpv4Prefix(addr: number, length: number): number {
  return addr * 64 + length;
}

/** Address of a packed IPv4 prefix. */
export function packedIpv4Addr(packed: number): number {
  return Math.floor(packed / 64);
}

/** Length of a packed IPv4 prefix. */
export function packedIpv4Length(packed: number): number {
  return packed % 64;
}

/** Packed IPv4 prefix -> Prefix. */
export function unpackIpv4Prefix(packed: number): Prefix {
  return { family: 'ipv4-unicast', addr: Math.floor(packed / 64), length: packed % 64 };
}

/** True when the prefixes are equal. */
export function prefixEquals(a: Prefix, b: Prefix): boolean {
  if (a.length !== b.length) return false;
  if (a.family === 'ipv4-unicast') return b.family === 'ipv4-unicast' && a.addr === b.addr;
  if (b.family !== 'ipv6-unicast') return false;
  for (let i = 0; i < 16; i++) if (a.addr[i] !== b.addr[i]) return false;
  return true;
}
