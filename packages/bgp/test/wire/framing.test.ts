import { describe, expect, it } from 'vitest';
import { BgpError, encodeKeepalive, HeaderSubcode, MessageFramer, NotificationCode } from '../../src/wire/index.js';
import { fixture, fixtureMessages, hx, message } from './helpers.js';

function frameAll(f: MessageFramer): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let m = f.next(); m !== undefined; m = f.next()) out.push(m.slice());
  return out;
}

function catchBgp(fn: () => unknown): BgpError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BgpError) return e;
    throw e;
  }
  throw new Error('expected a BgpError');
}

describe('MessageFramer', () => {
  const stream = fixture('bird-stream-v4.hex');
  const expected = fixtureMessages('bird-stream-v4.hex');

  it('splits a real BIRD stream into its messages', () => {
    expect(expected.map((m) => m[18])).toEqual([1, 4, 2, 2, 2, 5, 3]);
    expect(expected.reduce((n, m) => n + m.length, 0)).toBe(stream.length);
  });

  it('is correct when the stream is split at every offset', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const f = new MessageFramer();
      f.setMaxMessageLength(65535);
      f.push(stream.subarray(0, cut));
      const got = frameAll(f);
      f.push(stream.subarray(cut));
      got.push(...frameAll(f));
      expect(got, `cut at ${cut}`).toEqual(expected);
      expect(f.buffered).toBe(0);
    }
  });

  it('is correct when fed one byte at a time and in three uneven pieces', () => {
    const f = new MessageFramer();
    f.setMaxMessageLength(65535);
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) {
      f.push(stream.subarray(i, i + 1));
      got.push(...frameAll(f));
    }
    expect(got).toEqual(expected);
    for (let a = 1; a < stream.length; a += 37)
      for (let b = a; b < stream.length; b += 53) {
        const g = new MessageFramer();
        g.setMaxMessageLength(65535);
        g.push(stream.subarray(0, a));
        g.push(stream.subarray(a, b));
        g.push(stream.subarray(b));
        expect(frameAll(g)).toEqual(expected);
      }
  });

  it('returns views of the pushed chunk when a message lies inside one (no copy)', () => {
    const f = new MessageFramer();
    const ka = encodeKeepalive();
    const two = new Uint8Array(38);
    two.set(ka);
    two.set(ka, 19);
    f.push(two);
    const m = f.next()!;
    expect(m.buffer).toBe(two.buffer);
    expect(f.next()).toEqual(ka);
    expect(f.next()).toBeUndefined();
  });

  it('rejects a bad marker with Connection Not Synchronized, and keeps rejecting', () => {
    const bad = encodeKeepalive();
    bad[3] = 0;
    const f = new MessageFramer();
    f.push(bad);
    const e = catchBgp(() => f.next());
    expect([e.code, e.subcode, e.data]).toEqual([
      NotificationCode.MESSAGE_HEADER_ERROR,
      HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED,
      new Uint8Array(0),
    ]);
    expect(catchBgp(() => f.next())).toBe(e);
  });

  it.each([
    ['shorter than a header', 18, 4, 2, hx('00 12')],
    ['longer than 4096', 4097, 2, 2, hx('10 01')],
    ['KEEPALIVE longer than 19', 20, 4, 2, hx('00 14')],
    ['OPEN shorter than 29', 28, 1, 2, hx('00 1c')],
    ['UPDATE shorter than 23', 22, 2, 2, hx('00 16')],
    ['NOTIFICATION shorter than 21', 20, 3, 2, hx('00 14')],
    ['unknown type 6', 19, 6, 3, hx('06')],
    ['type 0', 19, 0, 3, hx('00')],
  ])('rejects a header with %s (subcode %#, data as RFC 4271 §6.1)', (_what, length, type, subcode, data) => {
    const h = hx('ffffffffffffffffffffffffffffffff');
    const msg = new Uint8Array(Math.max(length, 19));
    msg.set(h);
    msg[16] = length >> 8;
    msg[17] = length & 255;
    msg[18] = type;
    const f = new MessageFramer();
    f.push(msg.subarray(0, 19)); // the header alone is enough to judge
    const e = catchBgp(() => f.next());
    expect([e.code, e.subcode, e.data]).toEqual([1, subcode, data]);
  });

  it('accepts messages up to 65535 bytes only after setMaxMessageLength (RFC 8654), never an OPEN over 4096', () => {
    const big = message(2, new Uint8Array(5000 - 19));
    const f = new MessageFramer();
    f.push(big);
    expect(catchBgp(() => f.next()).subcode).toBe(HeaderSubcode.BAD_MESSAGE_LENGTH);
    const g = new MessageFramer();
    g.setMaxMessageLength(65535);
    g.push(big);
    expect(g.next()?.length).toBe(5000);
    const bigOpen = message(1, new Uint8Array(5000 - 19));
    const h = new MessageFramer();
    h.setMaxMessageLength(65535);
    h.push(bigOpen);
    expect(catchBgp(() => h.next()).data).toEqual(hx('13 88'));
    expect(() => g.setMaxMessageLength(100)).toThrow(RangeError);
  });
});
