import { describe, expect, it } from 'vitest';
import {
  BgpError,
  CeaseSubcode,
  carriesShutdownCommunication,
  DEFAULT_CODEC_OPTIONS,
  decodeMessage,
  decodeShutdownCommunication,
  describeNotification,
  encodeKeepalive,
  encodeMessage,
  encodeShutdownCommunication,
  FsmSubcode,
  HeaderSubcode,
  MessageType,
  NotificationCode,
  type NotificationMessage,
  notificationFromError,
  OpenSubcode,
  RouteRefreshSubcode,
  UpdateSubcode,
} from '../../src/wire/index.js';
import { hex, hx, message } from './helpers.js';

const O = DEFAULT_CODEC_OPTIONS;

describe('NOTIFICATION', () => {
  const bytes = message(3, hx('06 02 05 68 65 6c 6c 6f')); // Cease / Administrative Shutdown, "hello"
  const msg: NotificationMessage = {
    type: MessageType.NOTIFICATION,
    code: NotificationCode.CEASE,
    subcode: CeaseSubcode.ADMINISTRATIVE_SHUTDOWN,
    data: hx('05 68 65 6c 6c 6f'),
  };

  it('decodes, encodes and round-trips annotated bytes', () => {
    expect(decodeMessage(bytes, O)).toEqual({ kind: 'message', message: msg, warnings: [] });
    expect(hex(encodeMessage(msg, O))).toBe(hex(bytes));
    const r = decodeMessage(encodeMessage(msg, O), O);
    expect(r.kind === 'message' && r.message).toEqual(msg);
  });

  it('names every code and subcode', () => {
    const all: [number, Record<string, number>][] = [
      [NotificationCode.MESSAGE_HEADER_ERROR, HeaderSubcode],
      [NotificationCode.OPEN_MESSAGE_ERROR, OpenSubcode],
      [NotificationCode.UPDATE_MESSAGE_ERROR, UpdateSubcode],
      [NotificationCode.FSM_ERROR, FsmSubcode],
      [NotificationCode.CEASE, CeaseSubcode],
      [NotificationCode.ROUTE_REFRESH_MESSAGE_ERROR, RouteRefreshSubcode],
    ];
    for (const [code, table] of all)
      for (const sub of Object.values(table)) expect(describeNotification(code, sub)).not.toMatch(/subcode \d|Unknown/);
    expect(describeNotification(4, 0)).toBe('Hold Timer Expired / Unspecific');
    expect(describeNotification(8, 0)).toBe('Send Hold Timer Expired / Unspecific');
    expect(describeNotification(6, 2)).toBe('Cease / Administrative Shutdown');
    expect(describeNotification(3, 11)).toBe('UPDATE Message Error / Malformed AS_PATH');
    expect(describeNotification(42, 1)).toMatch(/Unknown error code 42/);
  });

  it('turns a BgpError into the NOTIFICATION to send', () => {
    const e = new BgpError(2, 6, 'hold time 1', new Uint8Array(0));
    expect(notificationFromError(e)).toEqual({ type: 3, code: 2, subcode: 6, data: new Uint8Array(0) });
    expect(e.message).toBe('OPEN Message Error / Unacceptable Hold Time: hold time 1');
  });

  it('keeps arbitrary data, even empty, for every code', () => {
    for (let code = 1; code <= 8; code++) {
      const m: NotificationMessage = { type: 3, code, subcode: 1, data: new Uint8Array(code) };
      const r = decodeMessage(encodeMessage(m, O), O);
      expect(r.kind === 'message' && r.message).toEqual(m);
    }
  });
});

describe('RFC 9003 shutdown communication', () => {
  it('encodes length + UTF-8 and decodes it back', () => {
    const d = encodeShutdownCommunication('maintenance 🛠');
    expect(hex(d)).toBe(`10${hex(new TextEncoder().encode('maintenance 🛠'))}`);
    expect(decodeShutdownCommunication(d)).toEqual({ ok: true, text: 'maintenance 🛠', trailing: new Uint8Array(0) });
  });

  it('cuts text over 255 bytes at a character boundary', () => {
    const d = encodeShutdownCommunication('é'.repeat(200)); // 400 bytes of UTF-8
    expect(d[0]).toBe(254);
    const r = decodeShutdownCommunication(d);
    expect(r.ok && r.text).toBe('é'.repeat(127));
  });

  it('reports a length beyond the data and invalid UTF-8 instead of throwing', () => {
    expect(decodeShutdownCommunication(hx('05 61 62'))).toMatchObject({ ok: false });
    expect(decodeShutdownCommunication(hx('02 c3 28'))).toEqual({
      ok: false,
      reason: 'shutdown communication is not valid UTF-8',
    });
    expect(decodeShutdownCommunication(new Uint8Array(0))).toEqual({ ok: true, text: '', trailing: new Uint8Array(0) });
    expect(decodeShutdownCommunication(hx('01 61 ff'))).toEqual({ ok: true, text: 'a', trailing: hx('ff') });
  });

  it('applies to Administrative Shutdown and Reset only', () => {
    expect(carriesShutdownCommunication(6, 2)).toBe(true);
    expect(carriesShutdownCommunication(6, 4)).toBe(true);
    expect(carriesShutdownCommunication(6, 3)).toBe(false);
    expect(carriesShutdownCommunication(3, 2)).toBe(false);
  });
});

describe('KEEPALIVE', () => {
  it('is a bare 19-byte header', () => {
    expect(hex(encodeKeepalive())).toBe(`${'ff'.repeat(16)}001304`);
    expect(hex(encodeMessage({ type: 4 }, O))).toBe(hex(encodeKeepalive()));
    expect(decodeMessage(encodeKeepalive(), O)).toEqual({ kind: 'message', message: { type: 4 }, warnings: [] });
  });
});

describe('ROUTE-REFRESH', () => {
  it.each([
    ['normal request IPv4', '00 01 00 01', 'ipv4-unicast', 0],
    ['BoRR IPv6 (RFC 7313)', '00 02 01 01', 'ipv6-unicast', 1],
    ['EoRR IPv4 (RFC 7313)', '00 01 02 01', 'ipv4-unicast', 2],
  ] as const)('%s: decode, encode, round-trip', (_what, body, family, subtype) => {
    const bytes = message(5, hx(body));
    const msg = { type: MessageType.ROUTE_REFRESH, family, subtype };
    expect(decodeMessage(bytes, O)).toEqual({ kind: 'message', message: msg, warnings: [] });
    expect(hex(encodeMessage(msg, O))).toBe(hex(bytes));
  });

  it('is ignored for an unknown family or a reserved subtype (RFC 2918 §4, RFC 7313 §5)', () => {
    expect(decodeMessage(message(5, hx('00 01 00 80')), O)).toMatchObject({ kind: 'ignored', type: 5 });
    expect(decodeMessage(message(5, hx('00 01 03 01')), O)).toMatchObject({ kind: 'ignored', type: 5 });
  });

  it('of the wrong length is ROUTE-REFRESH Message Error / Invalid Message Length with the whole message', () => {
    const bytes = message(5, hx('00 01 00 01 00'));
    try {
      decodeMessage(bytes, O);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BgpError);
      const b = e as BgpError;
      expect([b.code, b.subcode, hex(b.data)]).toEqual([7, 1, hex(bytes)]);
    }
  });
});
