// Adj-RIB-Out batches to UPDATE messages that each fit the session's maximum message length:
// prefixes sharing an attribute set go out together, as many per UPDATE as fit.
import type { OutBatch, PrefixKey } from '../rib/index.js';
import { encodeUpdates, type Family, type Nlri, type SessionCodecOptions, type UpdateMessage } from '../wire/index.js';

const HEADER = 19;

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

function keyWireLength(key: PrefixKey, addPath: boolean): number {
  const length = typeof key === 'number' ? key % 64 : Number(key.slice(key.indexOf('/') + 1));
  return 1 + ((length + 7) >> 3) + (addPath ? 4 : 0);
}

function chunks(keys: readonly PrefixKey[], room: number, addPath: boolean): PrefixKey[][] {
  const out: PrefixKey[][] = [];
  let cur: PrefixKey[] = [];
  let used = 0;
  for (const k of keys) {
    const s = keyWireLength(k, addPath);
    if (used + s > room && cur.length > 0) {
      out.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(k);
    used += s;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export function toUpdateMessages(batches: readonly OutBatch[], codec: SessionCodecOptions): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  const max = codec.maxMessageLength;
  for (const b of batches) {
    const family: Family = b.family;
    const addPath = codec.addPathSend.has(family);
    if (b.withdrawn.length > 0) {
      // IPv4: header + 2 + 2; IPv6: plus an MP_UNREACH attribute (4 header with extended length, 3 AFI/SAFI)
      const fixed = family === 'ipv4-unicast' ? HEADER + 4 : HEADER + 4 + 4 + 3;
      for (const c of chunks(b.withdrawn, max - fixed, addPath)) {
        const nlri = c.map(keyToNlri);
        out.push(
          family === 'ipv4-unicast'
            ? { type: 2, withdrawn: nlri, attributes: {}, nlri: [] }
            : { type: 2, withdrawn: [], attributes: {}, mpUnreach: { family, withdrawn: nlri }, nlri: [] },
        );
      }
    }
    if (b.announced.length > 0 && b.attrSet) {
      const attrs = b.attrSet.attrs;
      const first = keyToNlri(b.announced[0]!);
      if (family === 'ipv4-unicast') {
        const nh = attrs.nextHop ?? '0.0.0.0';
        const probe = encodeUpdates(attrs, [first], family, nh, codec)[0]!;
        const fixed = probe.length - keyWireLength(b.announced[0]!, addPath);
        for (const c of chunks(b.announced, max - fixed, addPath)) {
          out.push({ type: 2, withdrawn: [], attributes: { ...attrs, nextHop: nh }, nlri: c.map(keyToNlri) });
        }
      } else {
        const { nextHop, ...rest } = attrs;
        const nh = nextHop ?? '::';
        const probe = encodeUpdates(rest, [first], family, nh, codec)[0]!;
        const fixed = probe.length - keyWireLength(b.announced[0]!, addPath);
        for (const c of chunks(b.announced, max - fixed, addPath)) {
          out.push({
            type: 2,
            withdrawn: [],
            attributes: rest,
            mpReach: { family, nextHop: nh, nlri: c.map(keyToNlri) },
            nlri: [],
          });
        }
      }
    }
  }
  return out;
}
