// NOTIFICATION (RFC 4271 §4.5), KEEPALIVE (§4.4) and ROUTE-REFRESH (RFC 2918, RFC 7313).
import { BgpError, NotificationCode, RouteRefreshSubcode } from './errors.js';
import { afiSafi, familyFromAfiSafi, readU16 } from './families.js';
import { HEADER_LENGTH, writeHeader } from './framing.js';
import { type KeepaliveMessage, MessageType, type NotificationMessage, type RouteRefreshMessage } from './types.js';

export function decodeNotification(frame: Uint8Array): NotificationMessage {
  return {
    type: MessageType.NOTIFICATION,
    code: frame[HEADER_LENGTH]!,
    subcode: frame[HEADER_LENGTH + 1]!,
    data: frame.slice(HEADER_LENGTH + 2),
  };
}

export function encodeNotification(m: NotificationMessage): Uint8Array {
  const length = HEADER_LENGTH + 2 + m.data.length;
  if (length > 4096) throw new RangeError(`NOTIFICATION data of ${m.data.length} bytes does not fit 4096 bytes`);
  const out = new Uint8Array(length);
  writeHeader(out, length, MessageType.NOTIFICATION);
  out[HEADER_LENGTH] = m.code;
  out[HEADER_LENGTH + 1] = m.subcode;
  out.set(m.data, HEADER_LENGTH + 2);
  return out;
}

/** The NOTIFICATION message a BgpError stands for. */
export function notificationFromError(e: BgpError): NotificationMessage {
  return { type: MessageType.NOTIFICATION, code: e.code, subcode: e.subcode, data: e.data };
}

export const KEEPALIVE: KeepaliveMessage = { type: MessageType.KEEPALIVE };

export function encodeKeepalive(): Uint8Array {
  const out = new Uint8Array(HEADER_LENGTH);
  writeHeader(out, HEADER_LENGTH, MessageType.KEEPALIVE);
  return out;
}

/** RFC 7313 subtypes. */
export const RouteRefreshSubtype = { NORMAL: 0, BEGIN: 1, END: 2 } as const;

/**
 * Decodes a ROUTE-REFRESH. Returns a reason string when RFC 2918/7313 says to ignore the message
 * (unknown AFI/SAFI, subtype 3..255). Throws BgpError code 7 when the length is not 23.
 */
export function decodeRouteRefresh(frame: Uint8Array): RouteRefreshMessage | string {
  if (frame.length !== HEADER_LENGTH + 4)
    throw new BgpError(
      NotificationCode.ROUTE_REFRESH_MESSAGE_ERROR,
      RouteRefreshSubcode.INVALID_MESSAGE_LENGTH,
      `ROUTE-REFRESH is ${frame.length} bytes, must be 23`,
      frame.slice(),
    );
  const afi = readU16(frame, HEADER_LENGTH);
  const subtype = frame[HEADER_LENGTH + 2]!;
  const safi = frame[HEADER_LENGTH + 3]!;
  const family = familyFromAfiSafi(afi, safi);
  if (family === undefined) return `ROUTE-REFRESH for AFI ${afi} SAFI ${safi}, a family Tortie does not speak`;
  if (subtype > 2) return `ROUTE-REFRESH subtype ${subtype} is reserved (RFC 7313)`;
  return { type: MessageType.ROUTE_REFRESH, family, subtype: subtype as 0 | 1 | 2 };
}

export function encodeRouteRefresh(m: RouteRefreshMessage): Uint8Array {
  const out = new Uint8Array(HEADER_LENGTH + 4);
  writeHeader(out, out.length, MessageType.ROUTE_REFRESH);
  const { afi, safi } = afiSafi(m.family);
  out[HEADER_LENGTH] = afi >>> 8;
  out[HEADER_LENGTH + 1] = afi & 255;
  out[HEADER_LENGTH + 2] = m.subtype;
  out[HEADER_LENGTH + 3] = safi;
  return out;
}
