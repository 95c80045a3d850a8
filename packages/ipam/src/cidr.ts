// Address arithmetic on bigint so that IPv4 and IPv6 share one code path.
import { isIPv4, isIPv6 } from 'node:net';
import { ValidationError } from './errors.js';

export interface Cidr {
  readonly family: 4 | 6;
  /** Network address (host bits zero). */
  readonly base: bigint;
  readonly prefix: number;
}

export const familyBits = (family: 4 | 6): number => (family === 4 ? 32 : 128);

export function parseIp(text: string, field = 'address'): { family: 4 | 6; value: bigint } {
  if (isIPv4(text)) {
    const value = text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
    return { family: 4, value };
  }
  if (isIPv6(text)) {
    let body = text;
    // Trailing embedded IPv4 (::ffff:1.2.3.4) becomes two hextets.
    const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(body);
    if (v4?.[1] !== undefined && v4[2] !== undefined) {
      const n = parseIp(v4[2]).value;
      body = `${v4[1]}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
    }
    const [head = '', tail] = body.split('::');
    const headParts = head === '' ? [] : head.split(':');
    const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
    const missing = 8 - headParts.length - tailParts.length;
    const parts = tail === undefined ? headParts : [...headParts, ...Array<string>(missing).fill('0'), ...tailParts];
    const value = parts.reduce((acc, h) => (acc << 16n) | BigInt(Number.parseInt(h, 16)), 0n);
    return { family: 6, value };
  }
  throw new ValidationError(field, `"${text}" is not an IPv4 or IPv6 address`);
}

export function formatIp(family: 4 | 6, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString()).join('.');
  }
  const hextets: number[] = [];
  for (let i = 7; i >= 0; i--) hextets.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (length >= 2) of zero hextets, the first if tied.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (hextets[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = hextets.map((h) => h.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Parses `a.b.c.d/n` or `x::/n`; host bits must be zero (a pool or block names a network). */
export function parseCidr(text: string, field = 'cidr'): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new ValidationError(field, `"${text}" is not a CIDR (expected address/prefix)`);
  const { family, value } = parseIp(text.slice(0, slash), field);
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  const bits = familyBits(family);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > bits) {
    throw new ValidationError(field, `"${text}" has an invalid prefix length (0-${bits} for IPv${family})`);
  }
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  if ((value & hostMask) !== 0n) {
    throw new ValidationError(
      field,
      `"${text}" has host bits set; did you mean ${formatCidr({ family, base: value & ~hostMask, prefix })}?`,
    );
  }
  return { family, base: value, prefix };
}

export const formatCidr = (c: Cidr): string => `${formatIp(c.family, c.base)}/${c.prefix}`;

export const cidrSize = (c: Cidr): bigint => 1n << BigInt(familyBits(c.family) - c.prefix);

export const cidrContains = (c: Cidr, family: 4 | 6, value: bigint): boolean =>
  c.family === family && value >= c.base && value < c.base + cidrSize(c);

export const cidrsOverlap = (a: Cidr, b: Cidr): boolean =>
  a.family === b.family && a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);

/** Canonical text of a CIDR (e.g. `fd00:0::/122` -> `fd00::/122`), for use as a map key. */
export const canonicalCidr = (text: string): string => formatCidr(parseCidr(text));

/** The block of `blockSize` inside `pool` containing `value`. */
export function blockContaining(family: 4 | 6, value: bigint, blockSize: number): Cidr {
  const hostMask = (1n << BigInt(familyBits(family) - blockSize)) - 1n;
  return { family, base: value & ~hostMask, prefix: blockSize };
}
