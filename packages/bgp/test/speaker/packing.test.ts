// The bulk path's encoder against the codec's decoder: every prefix comes back, frames fit.
import { describe, expect, it } from 'vitest';
import { AttrSetRegistry, type OutBatch } from '../../src/rib/index.js';
import { encodeBatches, keyToNlri } from '../../src/speaker/packing.js';
import { decodeMessage, MessageFramer, type SessionCodecOptions, type UpdateMessage } from '../../src/wire/index.js';

const codec: SessionCodecOptions = {
  fourOctetAs: true,
  addPathReceive: new Set(),
  addPathSend: new Set(),
  maxMessageLength: 4096,
};

function keys(n: number): number[] {
  const lengths = [0, 1, 8, 9, 16, 17, 23, 24, 25, 31, 32];
  const out = new Set<number>();
  for (let i = 0; out.size < n; i++) {
    const len = lengths[i % lengths.length]!;
    const addr = len === 0 ? 0 : ((Math.imul(i + 1, 2654435761) >>> 0) & (0xffffffff << (32 - len))) >>> 0;
    out.add(addr * 64 + len);
  }
  return [...out];
}

/** The single messages in encodeBatches' buffers (each holds whole UPDATEs back to back). */
function split(buffers: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const b of buffers) {
    const framer = new MessageFramer();
    framer.push(b);
    for (let f = framer.next(); f; f = framer.next()) out.push(f);
    expect(framer.buffered).toBe(0);
  }
  return out;
}

const back = (u: UpdateMessage, field: 'nlri' | 'withdrawn'): number[] =>
  u[field].map((n) => (n.prefix.addr as number) * 64 + n.prefix.length);

describe('bulk UPDATE encoding', () => {
  it('announces and withdraws every IPv4 prefix, each frame within the maximum length', () => {
    const reg = new AttrSetRegistry();
    const set = reg.intern(
      {
        origin: 0,
        asPath: [{ type: 2, asns: [4200000001, 65001] }],
        nextHop: '192.0.2.1',
        communities: [65001 * 65536 + 7],
      },
      1,
    );
    const ks = keys(5000);
    const batches: OutBatch[] = [
      { family: 'ipv4-unicast', attrSet: null, announced: [], withdrawn: ks.slice(0, 2000) },
      { family: 'ipv4-unicast', attrSet: set, announced: ks, withdrawn: [] },
    ];
    const buffers = encodeBatches(batches, codec);
    // many frames share one buffer (one socket write)
    expect(buffers.length).toBeLessThan(4);
    const frames = split(buffers);
    const withdrawn: number[] = [];
    const announced: number[] = [];
    for (const f of frames) {
      expect(f.length).toBeLessThanOrEqual(4096);
      const d = decodeMessage(f, codec);
      expect(d.kind).toBe('message');
      const m = (d as { message: UpdateMessage }).message;
      withdrawn.push(...back(m, 'withdrawn'));
      announced.push(...back(m, 'nlri'));
      if (m.nlri.length > 0) {
        expect(m.attributes.nextHop).toBe('192.0.2.1');
        expect(m.attributes.asPath).toEqual([{ type: 2, asns: [4200000001, 65001] }]);
        expect(m.attributes.communities).toEqual([65001 * 65536 + 7]);
      }
    }
    expect(withdrawn).toEqual(ks.slice(0, 2000));
    expect(announced).toEqual(ks);
    // packed: all but the last frame of each kind are nearly full
    expect(frames.length).toBeLessThan(Math.ceil((2000 * 4) / 4000) + Math.ceil((5000 * 4.2) / 4000) + 3);
  });

  it('many small batches (one prefix set each) share buffers, in order', () => {
    const reg = new AttrSetRegistry();
    const ks = keys(3000);
    const batches: OutBatch[] = ks.map((k, i) => ({
      family: 'ipv4-unicast',
      attrSet: reg.intern({ origin: 0, asPath: [{ type: 2, asns: [65001, 100000 + i] }], nextHop: '192.0.2.1' }, 1),
      announced: [k],
      withdrawn: [],
    }));
    const buffers = encodeBatches(batches, codec);
    expect(buffers.length).toBeLessThan(5);
    const msgs = split(buffers).map((f) => (decodeMessage(f, codec) as { message: UpdateMessage }).message);
    expect(msgs.map((m) => back(m, 'nlri')[0])).toEqual(ks);
    expect(msgs.map((m) => m.attributes.asPath?.[0]?.asns[1])).toEqual(ks.map((_, i) => 100000 + i));
  });

  it('encodes IPv6 through the codec, and keys round-trip through keyToNlri', () => {
    const reg = new AttrSetRegistry();
    const set = reg.intern({ origin: 0, asPath: [], nextHop: '2001:db8::1' }, 1);
    const k6 = ['20010db8000100/56', '20010db8/32', '/0'];
    const frames = split(
      encodeBatches([{ family: 'ipv6-unicast', attrSet: set, announced: k6, withdrawn: [] }], codec),
    );
    const m = (decodeMessage(frames[0]!, codec) as { message: UpdateMessage }).message;
    expect(m.mpReach?.nextHop).toBe('2001:db8::1');
    expect(m.mpReach?.nlri.map((n) => n.prefix.length)).toEqual([56, 32, 0]);
    expect(keyToNlri(10 * 64 + 8)).toEqual({ prefix: { family: 'ipv4-unicast', addr: 10, length: 8 } });
  });
});
