// Adj-RIB-Out batches to UPDATE frames that each fit the session's maximum message length:
// prefixes sharing an attribute set go out together, as many per UPDATE as fit. IPv4 without
// add-path is written in one pass straight from packed prefix keys (no object per prefix);
// everything else goes through the codec.
import type { OutBatch, PrefixKey } from '../rib/index.js';
import {
  encodeMessage,
  encodeUpdates,
  encodeWithdrawals,
  endOfRib,
  type Family,
  type Nlri,
  type SessionCodecOptions,
} from '../wire/index.js';

export function keyToNlri(key: PrefixKey): Nlri {
  if (typeof key === 'number') {
    return { prefix: { family: 'ipv4-unicast', addr: Math.floor(key / 64), length: key % 64 } };
  }
  const slash = key.indexOf('/');
  const length = Number(key.slice(slash + 1));
  const addr = new Uint8Array(16);
  for (let i = 0; i < slash; i++) {
    const v = Number.parseInt(key[i]!, 16);
    addr[i >> 1] = addr[i >> 1]! | (i & 1 ? v : v << 4);
  }
  return { prefix: { family: 'ipv6-unicast', addr, length } };
}

const IPV4: Family = 'ipv4-unicast';

/**
 * IPv4 frames without add-path, in one pass: NLRI (or withdrawals) written straight from packed
 * keys (`addr * 64 + length`), the attributes encoded once by the codec and copied into each frame.
 */
function v4Frames(keys: readonly PrefixKey[], attrBytes: Uint8Array | null, max: number, out: Uint8Array[]): void {
  const announce = attrBytes !== null;
  const start = announce ? 23 + attrBytes.length : 21;
  // a withdrawal frame ends with the 2-byte (zero) path attribute length
  const limit = announce ? max : max - 2;
  const n = keys.length;
  let i = 0;
  while (i < n) {
    const b = Buffer.allocUnsafe(max);
    b.fill(0xff, 0, 16);
    b[18] = 2;
    let o = start;
    while (i < n) {
      const key = keys[i] as number;
      const len = key % 64;
      const nb = (len + 7) >> 3;
      if (o + 1 + nb > limit) break;
      const addr = (key - len) / 64;
      b[o++] = len;
      if (nb > 0) b[o++] = addr >>> 24;
      if (nb > 1) b[o++] = (addr >>> 16) & 255;
      if (nb > 2) b[o++] = (addr >>> 8) & 255;
      if (nb > 3) b[o++] = addr & 255;
      i++;
    }
    if (announce) {
      b[19] = 0;
      b[20] = 0;
      b[21] = attrBytes.length >>> 8;
      b[22] = attrBytes.length & 255;
      b.set(attrBytes, 23);
    } else {
      const wl = o - 21;
      b[19] = wl >>> 8;
      b[20] = wl & 255;
      b[o++] = 0;
      b[o++] = 0;
    }
    b[16] = o >>> 8;
    b[17] = o & 255;
    out.push(b.subarray(0, o));
  }
}

/** Adj-RIB-Out batches to UPDATE frames for `codec`. */
export function encodeBatches(batches: readonly OutBatch[], codec: SessionCodecOptions): Uint8Array[] {
  const out: Uint8Array[] = [];
  const max = codec.maxMessageLength;
  for (const b of batches) {
    const fast4 = b.family === IPV4 && !codec.addPathSend.has(IPV4);
    if (b.withdrawn.length > 0) {
      if (fast4) v4Frames(b.withdrawn, null, max, out);
      else for (const f of encodeWithdrawals(b.withdrawn.map(keyToNlri), b.family, codec)) out.push(f);
    }
    if (b.announced.length > 0 && b.attrSet) {
      const attrs = b.attrSet.attrs;
      if (fast4) {
        const nh = attrs.nextHop ?? '0.0.0.0';
        const probe = encodeUpdates(attrs, [keyToNlri(b.announced[0]!)], IPV4, nh, codec)[0]!;
        const tal = (probe[21]! << 8) | probe[22]!;
        v4Frames(b.announced, probe.slice(23, 23 + tal), max, out);
      } else if (b.family === IPV4) {
        for (const f of encodeUpdates(attrs, b.announced.map(keyToNlri), IPV4, attrs.nextHop ?? '0.0.0.0', codec))
          out.push(f);
      } else {
        const { nextHop, ...rest } = attrs;
        for (const f of encodeUpdates(rest, b.announced.map(keyToNlri), b.family, nextHop ?? '::', codec)) out.push(f);
      }
    }
  }
  return out;
}

export function endOfRibFrame(family: Family, codec: SessionCodecOptions): Uint8Array {
  return encodeMessage(endOfRib(family), codec);
}
