// Adj-RIB-Out batches to UPDATE frames that each fit the session's maximum message length:
// prefixes sharing an attribute set go out together, as many per UPDATE as fit. IPv4 without
// add-path is written in one pass straight from packed prefix keys (no object per prefix);
// everything else goes through the codec.
import type { OutBatch, PrefixKey } from '../rib/index.js';
import {
  encodeIpv4Attributes,
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

/** Size of the buffers frames are written into, back to back (one socket write each). */
const CHUNK = 65536;

/**
 * Writes UPDATE frames back to back into CHUNK-sized buffers, so that many small UPDATEs cost one
 * allocation and one socket write per chunk instead of one per frame.
 */
class FrameSink {
  readonly out: Uint8Array[] = [];
  buf: Buffer | null = null;
  pos = 0;
  start = 0;

  /** Room for a frame of up to `max` bytes at `this.pos`. */
  reserve(max: number): Buffer {
    if (this.buf === null || this.pos + max > this.buf.length) {
      this.cut();
      this.buf = Buffer.allocUnsafe(Math.max(CHUNK, max));
      this.pos = 0;
      this.start = 0;
    }
    return this.buf;
  }

  /** Ends the current chunk (it goes out as written so far). */
  cut(): void {
    if (this.buf !== null && this.pos > this.start) this.out.push(this.buf.subarray(this.start, this.pos));
    this.start = this.pos;
  }

  /** A frame built elsewhere (the codec): goes out in order after what is written. */
  push(frame: Uint8Array): void {
    this.cut();
    this.out.push(frame);
  }
}

/**
 * IPv4 frames without add-path, in one pass: NLRI (or withdrawals) written straight from packed
 * keys (`addr * 64 + length`), the attributes encoded once by the codec and copied into each frame.
 */
function v4Frames(keys: ArrayLike<PrefixKey>, attrBytes: Uint8Array | null, max: number, sink: FrameSink): void {
  const announce = attrBytes !== null;
  const fixed = announce ? 23 + attrBytes.length : 21;
  // a withdrawal frame ends with the 2-byte (zero) path attribute length
  const room = announce ? max - fixed : max - 2 - fixed;
  const n = keys.length;
  let i = 0;
  while (i < n) {
    // the frame's size: as many prefixes as fit
    let size = 0;
    let j = i;
    while (j < n) {
      const kj = keys[j] as number;
      const nb = 1 + ((kj - ((kj / 64) >>> 0) * 64 + 7) >> 3);
      if (size + nb > room) break;
      size += nb;
      j++;
    }
    const total = fixed + size + (announce ? 0 : 2);
    const b = sink.reserve(total);
    const f = sink.pos;
    // the marker: 16 stores (Buffer#fill validates its arguments and calls into C++, ~2% of a
    // withdrawal's CPU at 1M prefixes)
    for (let k = f; k < f + 16; k++) b[k] = 0xff;
    b[f + 16] = total >>> 8;
    b[f + 17] = total & 255;
    b[f + 18] = 2;
    let o = f + fixed;
    if (announce) {
      b[f + 19] = 0;
      b[f + 20] = 0;
      b[f + 21] = attrBytes.length >>> 8;
      b[f + 22] = attrBytes.length & 255;
      b.set(attrBytes, f + 23);
    } else {
      b[f + 19] = size >>> 8;
      b[f + 20] = size & 255;
    }
    for (; i < j; i++) {
      const key = keys[i] as number;
      const addr = (key / 64) >>> 0;
      const len = key - addr * 64;
      const nb = (len + 7) >> 3;
      b[o++] = len;
      if (nb > 0) b[o++] = addr >>> 24;
      if (nb > 1) b[o++] = (addr >>> 16) & 255;
      if (nb > 2) b[o++] = (addr >>> 8) & 255;
      if (nb > 3) b[o++] = addr & 255;
    }
    if (!announce) {
      b[o++] = 0;
      b[o++] = 0;
    }
    sink.pos = o;
  }
}

/**
 * Adj-RIB-Out batches to UPDATE messages for `codec`, in order. The result is a list of buffers,
 * each holding one or more whole UPDATE messages back to back (what Session.sendFrames takes).
 */
export function encodeBatches(batches: readonly OutBatch[], codec: SessionCodecOptions): Uint8Array[] {
  const sink = new FrameSink();
  const max = codec.maxMessageLength;
  for (const b of batches) {
    const fast4 = b.family === IPV4 && !codec.addPathSend.has(IPV4);
    if (b.withdrawn.length > 0) {
      if (fast4) v4Frames(b.withdrawn, null, max, sink);
      else for (const f of encodeWithdrawals(b.withdrawn.map(keyToNlri), b.family, codec)) sink.push(f);
    }
    if (b.announced.length > 0 && b.attrSet) {
      const attrs = b.attrSet.attrs;
      if (fast4) {
        v4Frames(b.announced, encodeIpv4Attributes(attrs, attrs.nextHop ?? '0.0.0.0', codec), max, sink);
      } else if (b.family === IPV4) {
        for (const f of encodeUpdates(attrs, b.announced.map(keyToNlri), IPV4, attrs.nextHop ?? '0.0.0.0', codec))
          sink.push(f);
      } else {
        const { nextHop, ...rest } = attrs;
        for (const f of encodeUpdates(rest, b.announced.map(keyToNlri), b.family, nextHop ?? '::', codec)) sink.push(f);
      }
    }
  }
  sink.cut();
  return sink.out;
}

export function endOfRibFrame(family: Family, codec: SessionCodecOptions): Uint8Array {
  return encodeMessage(endOfRib(family), codec);
}
