// Compact prefix keys. IPv4: a number `addr * 64 + length` (exact in a double, fits 38 bits).
// IPv6: a string `<hex nibbles covering length>/<length>` ("20010db8/32", "/0"). Host bits are
// always zero, so equal prefixes have equal keys. Neither form allocates an object per prefix.

import { numberToIpv4 as formatIpv4, formatIpv6 } from '../wire/prefix.js';
import type { Nlri, Prefix } from '../wire/types.js';

// The address formatters are wire's (same output); re-exported under the RIB's names.
export { formatIpv4, formatIpv6 };

export type PrefixKey = number | string;

/** Thrown for text that is not a prefix or a prefix with host bits set. */
export class PrefixFormatError extends Error {
  override readonly name = 'PrefixFormatError';
  readonly input: string;
  constructor(input: string, why: string) {
    super(`invalid prefix ${JSON.stringify(input)}: ${why}; write it as a.b.c.d/len or an IPv6 prefix x:y::/len`);
    this.input = input;
  }
}

export function v4Key(addr: number, length: number): number {
  return (addr >>> 0) * 64 + length;
}
export function v4KeyAddr(key: number): number {
  return Math.floor(key / 64);
}
export function v4KeyLength(key: number): number {
  return key % 64;
}

export function isV4Key(key: PrefixKey): key is number {
  return typeof key === 'number';
}

/** Mask of the first `length` bits of a 32-bit address, as an unsigned number. */
export function v4Mask(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

const HEX = '0123456789abcdef';

export function v6Key(addr: Uint8Array, length: number): string {
  const nibbles = (length + 3) >> 2;
  let s = '';
  for (let i = 0; i < nibbles; i++) {
    const byte = addr[i >> 1] ?? 0;
    let n = i & 1 ? byte & 0xf : byte >> 4;
    if (i === nibbles - 1 && length & 3) n &= (0xf << (4 - (length & 3))) & 0xf;
    s += HEX[n];
  }
  return `${s}/${length}`;
}

export function v6KeyBytes(key: string): { addr: Uint8Array; length: number } {
  const slash = key.indexOf('/');
  const hex = key.slice(0, slash);
  const addr = new Uint8Array(16);
  for (let i = 0; i < hex.length; i++) {
    const n = HEX.indexOf(hex[i] ?? '0');
    addr[i >> 1] = (addr[i >> 1] ?? 0) | (i & 1 ? n : n << 4);
  }
  return { addr, length: Number(key.slice(slash + 1)) };
}

export function prefixKey(p: Prefix): PrefixKey {
  return p.family === 'ipv4-unicast' ? v4Key(p.addr, p.length) : v6Key(p.addr, p.length);
}

export function keyToPrefix(key: PrefixKey): Prefix {
  if (typeof key === 'number') return { family: 'ipv4-unicast', addr: v4KeyAddr(key), length: v4KeyLength(key) };
  const { addr, length } = v6KeyBytes(key);
  return { family: 'ipv6-unicast', addr, length };
}

export function keysFromNlri(nlri: readonly Nlri[]): PrefixKey[] {
  const out: PrefixKey[] = new Array(nlri.length);
  for (let i = 0; i < nlri.length; i++) out[i] = prefixKey(nlri[i]!.prefix);
  return out;
}

export function nlriFromKeys(keys: readonly PrefixKey[]): Nlri[] {
  const out: Nlri[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = { prefix: keyToPrefix(keys[i]!) };
  return out;
}

/**
 * Unlike wire's tryIpv4ToNumber this accepts leading zeros in an octet ("010.0.0.1"), which
 * configuration and policy text has always allowed; so the RIB keeps its own parsers.
 */
export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v;
}

export function parseIpv6(text: string): Uint8Array | null {
  let t = text;
  const out = new Uint8Array(16);
  // embedded IPv4 tail
  const lastColon = t.lastIndexOf(':');
  let tailV4: number | null = null;
  if (t.includes('.')) {
    tailV4 = parseIpv4(t.slice(lastColon + 1));
    if (tailV4 === null) return null;
    t = `${t.slice(0, lastColon + 1)}0:0`;
  }
  const dbl = t.split('::');
  if (dbl.length > 2) return null;
  const head = dbl[0] ? dbl[0].split(':') : [];
  const tail = dbl.length === 2 && dbl[1] ? dbl[1].split(':') : [];
  if (dbl.length === 1 && head.length !== 8) return null;
  if (head.length + tail.length > (dbl.length === 2 ? 7 : 8)) return null;
  const groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  for (let i = 0; i < 8; i++) {
    const g = groups[i] ?? '';
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 255;
  }
  if (tailV4 !== null) {
    out[12] = tailV4 >>> 24;
    out[13] = (tailV4 >>> 16) & 255;
    out[14] = (tailV4 >>> 8) & 255;
    out[15] = tailV4 & 255;
  }
  return out;
}

/** Parses "a.b.c.d/len" or "x::/len" into a key. Host bits must be zero unless `loose`, which clears them. */
export function parsePrefixKey(text: string, loose = false): PrefixKey {
  const slash = text.indexOf('/');
  if (slash < 0) throw new PrefixFormatError(text, 'missing /length');
  const addrText = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) throw new PrefixFormatError(text, 'length is not a number');
  const length = Number(lenText);
  if (addrText.includes(':')) {
    if (length > 128) throw new PrefixFormatError(text, 'IPv6 length above 128');
    const addr = parseIpv6(addrText);
    if (!addr) throw new PrefixFormatError(text, 'bad IPv6 address');
    for (let bit = length; bit < 128; bit++) {
      if ((addr[bit >> 3]! >> (7 - (bit & 7))) & 1) {
        if (!loose) throw new PrefixFormatError(text, 'host bits set');
        addr[bit >> 3] = addr[bit >> 3]! & ~(1 << (7 - (bit & 7)));
      }
    }
    return v6Key(addr, length);
  }
  if (length > 32) throw new PrefixFormatError(text, 'IPv4 length above 32');
  const addr = parseIpv4(addrText);
  if (addr === null) throw new PrefixFormatError(text, 'bad IPv4 address');
  const masked = (addr & v4Mask(length)) >>> 0;
  if (masked !== addr && !loose) throw new PrefixFormatError(text, 'host bits set');
  return v4Key(masked, length);
}

export function formatPrefixKey(key: PrefixKey): string {
  if (typeof key === 'number') return `${formatIpv4(v4KeyAddr(key))}/${v4KeyLength(key)}`;
  const { addr, length } = v6KeyBytes(key);
  return `${formatIpv6(addr)}/${length}`;
}

/** Whether prefix `inner` lies within `outer` (same family, inner.length >= outer.length). */
export function prefixContains(outer: PrefixKey, inner: PrefixKey): boolean {
  if (typeof outer === 'number') {
    if (typeof inner !== 'number') return false;
    const ol = v4KeyLength(outer);
    const il = v4KeyLength(inner);
    if (il < ol) return false;
    return (v4KeyAddr(inner) & v4Mask(ol)) >>> 0 === v4KeyAddr(outer);
  }
  if (typeof inner === 'number') return false;
  const o = v6KeyBytes(outer);
  const i = v6KeyBytes(inner);
  if (i.length < o.length) return false;
  for (let bit = 0; bit < o.length; bit++) {
    if (((o.addr[bit >> 3]! ^ i.addr[bit >> 3]!) >> (7 - (bit & 7))) & 1) return false;
  }
  return true;
}

/** Prefix length of a key, either family. */
export function keyLength(key: PrefixKey): number {
  return typeof key === 'number' ? v4KeyLength(key) : Number(key.slice(key.indexOf('/') + 1));
}

/** Numeric form of a dotted-quad router id / address, for comparisons. */
export function ipv4ToNumber(text: string): number {
  const v = parseIpv4(text);
  if (v === null) throw new PrefixFormatError(text, 'not a dotted-quad IPv4 address');
  return v;
}

/** A totally ordered comparison of two addresses (IPv4 before IPv6, numerically within a family). */
export function compareAddresses(a: string, b: string): number {
  const a4 = parseIpv4(a);
  const b4 = parseIpv4(b);
  if (a4 !== null && b4 !== null) return a4 - b4;
  if (a4 !== null) return -1;
  if (b4 !== null) return 1;
  const a6 = parseIpv6(a);
  const b6 = parseIpv6(b);
  if (!a6 || !b6) return a < b ? -1 : a > b ? 1 : 0;
  for (let i = 0; i < 16; i++) if (a6[i] !== b6[i]) return a6[i]! - b6[i]!;
  return 0;
}
