import { describe, expect, it } from 'vitest';
import { BgpError, decodeMessage, decodeUpdateFast, formatPrefix, MessageType } from '../../src/wire/index.js';
import { hex } from './helpers.js';
import { MALFORMED } from './malformed-corpus.js';

function outcome(bytes: Uint8Array, opts: Parameters<typeof decodeMessage>[1]) {
  try {
    return decodeMessage(bytes, opts);
  } catch (e) {
    if (e instanceof BgpError) return e;
    throw e;
  }
}

describe('malformed message corpus', () => {
  it('covers every RFC 7606 approach', () => {
    const kinds = new Set(MALFORMED.map((c) => Object.keys(c.expect)[0]));
    expect([...kinds].sort()).toEqual(['accept', 'discard', 'ignored', 'notify', 'treatAsWithdraw']);
    expect(MALFORMED.length).toBeGreaterThanOrEqual(50);
  });

  for (const c of MALFORMED) {
    it(`${c.name} (${c.rfc})`, () => {
      const r = outcome(c.bytes, c.opts);
      const x = c.expect;
      if ('notify' in x) {
        expect(r).toBeInstanceOf(BgpError);
        const e = r as BgpError;
        expect([e.code, e.subcode, hex(e.data)]).toEqual([...x.notify]);
        // the fast path agrees on UPDATEs
        if (
          c.bytes[18] === MessageType.UPDATE &&
          c.bytes.length >= 23 &&
          ((c.bytes[16]! << 8) | c.bytes[17]!) === c.bytes.length
        )
          expect(() => decodeUpdateFast(c.bytes, c.opts)).toThrow(BgpError);
        return;
      }
      expect(r).not.toBeInstanceOf(BgpError);
      if (r instanceof BgpError) return;
      if ('treatAsWithdraw' in x) {
        expect(r.kind).toBe('treat-as-withdraw');
        if (r.kind !== 'treat-as-withdraw') return;
        expect(r.reason).toMatch(x.treatAsWithdraw);
        const all = [...r.message.nlri, ...(r.message.mpReach?.nlri ?? [])].map((n) => formatPrefix(n.prefix));
        expect(all).toEqual(x.withdraw);
        expect(decodeUpdateFast(c.bytes, c.opts).kind).toBe('treat-as-withdraw');
      } else if ('discard' in x) {
        expect(r.kind).toBe('message');
        if (r.kind !== 'message' || r.message.type !== MessageType.UPDATE) return;
        expect(r.warnings.join('\n')).toMatch(x.discard);
        if (x.absent !== '') expect(r.message.attributes).not.toHaveProperty(x.absent);
        expect(r.message.nlri.length).toBeGreaterThan(0);
      } else if ('accept' in x) {
        expect(r.kind).toBe('message');
        if (r.kind !== 'message') return;
        if (x.accept === undefined) expect(r.warnings).toEqual([]);
        else expect(r.warnings.join('\n')).toMatch(x.accept);
      } else {
        expect(r.kind).toBe('ignored');
        if (r.kind === 'ignored') expect(r.reason).toMatch(x.ignored);
      }
    });
  }
});
