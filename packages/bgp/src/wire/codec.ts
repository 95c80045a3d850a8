// decodeMessage / encodeMessage: the dispatch over message types.
import { BgpError, HeaderSubcode, NotificationCode } from './errors.js';
import { checkHeader } from './framing.js';
import {
  decodeNotification,
  decodeRouteRefresh,
  encodeKeepalive,
  encodeNotification,
  encodeRouteRefresh,
  KEEPALIVE,
} from './notification.js';
import { decodeOpen, encodeOpen } from './open.js';
import { type BgpMessage, MessageType, type SessionCodecOptions, type UpdateMessage } from './types.js';
import { decodeUpdate, encodeUpdate } from './update.js';

export type DecodeResult =
  /** A message to act on; `warnings` lists attribute-discard and other RFC 7606 notes. */
  | { readonly kind: 'message'; readonly message: BgpMessage; readonly warnings: readonly string[] }
  /** RFC 7606: every NLRI in it (body and MP_REACH) is to be withdrawn; its withdrawals still apply. */
  | { readonly kind: 'treat-as-withdraw'; readonly message: UpdateMessage; readonly reason: string }
  /** A message the RFCs say to ignore (ROUTE-REFRESH for an unknown family or reserved subtype). */
  | { readonly kind: 'ignored'; readonly type: MessageType; readonly reason: string };

const NO_WARNINGS: readonly string[] = Object.freeze([]);

/**
 * Decodes one whole message (header included, as MessageFramer returns it). Throws BgpError when
 * the session must be reset: the error carries the NOTIFICATION to send.
 */
export function decodeMessage(frame: Uint8Array, opts: SessionCodecOptions): DecodeResult {
  if (frame.length < 19)
    throw new BgpError(
      NotificationCode.MESSAGE_HEADER_ERROR,
      HeaderSubcode.BAD_MESSAGE_LENGTH,
      `message of ${frame.length} bytes is shorter than a header`,
      Uint8Array.of(frame.length >>> 8, frame.length & 255),
    );
  const length = checkHeader(frame, 0, opts.maxMessageLength);
  if (length !== frame.length)
    throw new BgpError(
      NotificationCode.MESSAGE_HEADER_ERROR,
      HeaderSubcode.BAD_MESSAGE_LENGTH,
      `header says ${length} bytes, the frame has ${frame.length}`,
      Uint8Array.of(length >>> 8, length & 255),
    );
  switch (frame[18] as MessageType) {
    case MessageType.UPDATE:
      return decodeUpdate(frame, opts);
    case MessageType.KEEPALIVE:
      return { kind: 'message', message: KEEPALIVE, warnings: NO_WARNINGS };
    case MessageType.OPEN:
      return { kind: 'message', message: decodeOpen(frame), warnings: NO_WARNINGS };
    case MessageType.NOTIFICATION:
      return { kind: 'message', message: decodeNotification(frame), warnings: NO_WARNINGS };
    case MessageType.ROUTE_REFRESH: {
      const r = decodeRouteRefresh(frame);
      if (typeof r === 'string') return { kind: 'ignored', type: MessageType.ROUTE_REFRESH, reason: r };
      return { kind: 'message', message: r, warnings: NO_WARNINGS };
    }
  }
  // checkHeader rejected every other type
  throw new BgpError(
    NotificationCode.MESSAGE_HEADER_ERROR,
    HeaderSubcode.BAD_MESSAGE_TYPE,
    'unreachable',
    frame.slice(18, 19),
  );
}

/** Encodes one message. Throws EncodeError/RangeError for messages that cannot be sent as given. */
export function encodeMessage(msg: BgpMessage, opts: SessionCodecOptions): Uint8Array {
  switch (msg.type) {
    case MessageType.OPEN:
      return encodeOpen(msg);
    case MessageType.UPDATE:
      return encodeUpdate(msg, opts);
    case MessageType.NOTIFICATION:
      return encodeNotification(msg);
    case MessageType.KEEPALIVE:
      return encodeKeepalive();
    case MessageType.ROUTE_REFRESH:
      return encodeRouteRefresh(msg);
  }
}
