// NOTIFICATION codes and subcodes (RFC 4271 §4.5 and the IANA registry) and the one error type
// the codec throws: a BgpError is a NOTIFICATION to send, with a message in words.

/** NOTIFICATION error codes. */
export const NotificationCode = {
  MESSAGE_HEADER_ERROR: 1,
  OPEN_MESSAGE_ERROR: 2,
  UPDATE_MESSAGE_ERROR: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM_ERROR: 5,
  CEASE: 6,
  /** RFC 7313. */
  ROUTE_REFRESH_MESSAGE_ERROR: 7,
  /** RFC 9687. */
  SEND_HOLD_TIMER_EXPIRED: 8,
} as const;
export type NotificationCode = (typeof NotificationCode)[keyof typeof NotificationCode];

/** Code 1 subcodes. */
export const HeaderSubcode = {
  UNSPECIFIC: 0,
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const;

/** Code 2 subcodes (5, 8, 9, 10 are deprecated). */
export const OpenSubcode = {
  UNSPECIFIC: 0,
  UNSUPPORTED_VERSION_NUMBER: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  /** Deprecated (authentication failure). */
  AUTHENTICATION_FAILURE: 5,
  UNACCEPTABLE_HOLD_TIME: 6,
  /** RFC 5492. */
  UNSUPPORTED_CAPABILITY: 7,
  /** RFC 9234. */
  ROLE_MISMATCH: 11,
} as const;

/** Code 3 subcodes (7 is deprecated). */
export const UpdateSubcode = {
  UNSPECIFIC: 0,
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN_ATTRIBUTE: 6,
  /** Deprecated (AS routing loop). */
  AS_ROUTING_LOOP: 7,
  INVALID_NEXT_HOP_ATTRIBUTE: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

/** Code 5 subcodes (RFC 6608). */
export const FsmSubcode = {
  UNSPECIFIED: 0,
  UNEXPECTED_MESSAGE_IN_OPEN_SENT: 1,
  UNEXPECTED_MESSAGE_IN_OPEN_CONFIRM: 2,
  UNEXPECTED_MESSAGE_IN_ESTABLISHED: 3,
} as const;

/** Code 6 subcodes (RFC 4486, RFC 8538, RFC 9384). */
export const CeaseSubcode = {
  UNSPECIFIC: 0,
  MAXIMUM_PREFIXES_REACHED: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
  BFD_DOWN: 10,
} as const;

/** Code 7 subcodes (RFC 7313). */
export const RouteRefreshSubcode = {
  RESERVED: 0,
  INVALID_MESSAGE_LENGTH: 1,
} as const;

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
  8: 'Send Hold Timer Expired',
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    5: 'Authentication Failure (deprecated)',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
    11: 'Role Mismatch',
  },
  3: {
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    7: 'AS Routing Loop (deprecated)',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  5: {
    0: 'Unspecified Error',
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
    10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
};

/** "Cease / Administrative Shutdown" style name of a code and subcode, for logs and the CLI. */
export function describeNotification(code: number, subcode: number): string {
  const c = CODE_NAMES[code] ?? `Unknown error code ${code}`;
  if (subcode === 0) return `${c} / Unspecific`;
  const s = SUBCODE_NAMES[code]?.[subcode] ?? `subcode ${subcode}`;
  return `${c} / ${s}`;
}

const EMPTY = new Uint8Array(0);

/**
 * A NOTIFICATION to send: the peer sent something the session cannot survive (RFC 4271 §6,
 * RFC 7606 "session reset"). `message` says what was wrong in words.
 */
export class BgpError extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;

  constructor(code: number, subcode: number, message: string, data: Uint8Array = EMPTY) {
    super(`${describeNotification(code, subcode)}: ${message}`);
    this.name = 'BgpError';
    this.code = code;
    this.subcode = subcode;
    this.data = data;
  }
}

/** Thrown by encoders given a message that cannot be put on the wire (a programming error, not a peer's). */
export class EncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncodeError';
  }
}

// ---- RFC 9003 shutdown communication ----

/** Longest shutdown communication in bytes (RFC 9003: 255 octets of UTF-8). */
export const MAX_SHUTDOWN_COMMUNICATION_BYTES = 255;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * The data of a Cease / Administrative Shutdown or Reset NOTIFICATION carrying `text` (RFC 9003):
 * one length octet then UTF-8. Text longer than 255 bytes is cut at a character boundary.
 */
export function encodeShutdownCommunication(text: string): Uint8Array {
  let bytes = utf8.encode(text);
  if (bytes.length > MAX_SHUTDOWN_COMMUNICATION_BYTES) {
    let end = MAX_SHUTDOWN_COMMUNICATION_BYTES;
    // back off over UTF-8 continuation bytes so no character is split
    while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  const out = new Uint8Array(bytes.length + 1);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

export type ShutdownCommunication =
  | { readonly ok: true; readonly text: string; readonly trailing: Uint8Array }
  | { readonly ok: false; readonly reason: string };

/**
 * Reads the RFC 9003 shutdown communication from NOTIFICATION data. Empty data is the empty
 * message. Bytes after the communication are returned as `trailing` (RFC 9003 allows none, but
 * they must not hide the text). Invalid UTF-8 or a length beyond the data is reported, not thrown.
 */
export function decodeShutdownCommunication(data: Uint8Array): ShutdownCommunication {
  if (data.length === 0) return { ok: true, text: '', trailing: EMPTY };
  const len = data[0]!;
  if (len + 1 > data.length)
    return { ok: false, reason: `length octet says ${len} bytes, only ${data.length - 1} follow` };
  try {
    const text = utf8Strict.decode(data.subarray(1, 1 + len));
    return { ok: true, text, trailing: data.subarray(1 + len) };
  } catch {
    return { ok: false, reason: 'shutdown communication is not valid UTF-8' };
  }
}

/** True for the Cease subcodes that carry a shutdown communication (RFC 9003). */
export function carriesShutdownCommunication(code: number, subcode: number): boolean {
  return (
    code === NotificationCode.CEASE &&
    (subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN || subcode === CeaseSubcode.ADMINISTRATIVE_RESET)
  );
}
