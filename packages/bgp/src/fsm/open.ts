// OPEN validation (RFC 4271 §6.2, RFC 6793 for 4-octet AS, RFC 6286 for the identifier) and hold
// time negotiation (§4.2, §10). Pure: the result says either what was negotiated or which
// NOTIFICATION to send.

import { AS_TRANS, type OpenMessage } from '../wire/index.js';
import { bgpIdToNumber } from './collision.js';
import type { NotificationSpec } from './types.js';

const OPEN_MESSAGE_ERROR = 2;
export const OpenErrorSubcode = {
  UNSUPPORTED_VERSION_NUMBER: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNACCEPTABLE_HOLD_TIME: 6,
} as const;

export interface OpenExpectations {
  readonly localAs: number;
  /** Our BGP identifier (dotted quad). */
  readonly routerId: string;
  /** The configured peer AS. */
  readonly peerAs: number;
  /** Our hold time in seconds (0 = none). */
  readonly holdTime: number;
}

export type OpenCheck =
  | {
      readonly ok: true;
      /** The peer's real AS (from the 4-octet AS capability when present). */
      readonly peerAs: number;
      /** Negotiated hold time: the smaller of both, 0 when either is 0. */
      readonly holdTime: number;
      readonly fourOctetAs: boolean;
    }
  | { readonly ok: false; readonly error: NotificationSpec; readonly reason: string };

function openError(subcode: number, data: Uint8Array, reason: string): OpenCheck {
  return { ok: false, error: { code: OPEN_MESSAGE_ERROR, subcode, data }, reason };
}

function u16(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

/** Negotiated hold time (RFC 4271 §4.2): the smaller of both; 0 means no hold timer at all. */
export function negotiateHoldTime(local: number, remote: number): number {
  return Math.min(local, remote);
}

export function validateOpen(open: OpenMessage, exp: OpenExpectations): OpenCheck {
  if (open.version !== 4) {
    // Data: the largest version we support (2 octets).
    return openError(
      OpenErrorSubcode.UNSUPPORTED_VERSION_NUMBER,
      u16(4),
      `peer speaks BGP version ${open.version}, only version 4 is supported`,
    );
  }
  const fourOctet = open.capabilities.fourOctetAs;
  if (fourOctet !== undefined && (fourOctet === 0 || fourOctet === AS_TRANS)) {
    return openError(
      OpenErrorSubcode.BAD_PEER_AS,
      u16(open.myAs),
      `peer's 4-octet AS capability carries ${fourOctet}, which is not a valid AS (RFC 6793)`,
    );
  }
  const peerAs = fourOctet ?? open.myAs;
  if (peerAs !== exp.peerAs) {
    const how = fourOctet === undefined ? 'My AS field (no 4-octet AS capability)' : '4-octet AS capability';
    return openError(
      OpenErrorSubcode.BAD_PEER_AS,
      u16(open.myAs),
      `peer says it is AS ${peerAs} (${how}) but AS ${exp.peerAs} is configured for it`,
    );
  }
  if (fourOctet !== undefined && fourOctet > 0xffff && open.myAs !== AS_TRANS) {
    return openError(
      OpenErrorSubcode.BAD_PEER_AS,
      u16(open.myAs),
      `peer's My AS field is ${open.myAs}; with a 4-octet AS ${fourOctet} it must be AS_TRANS (23456)`,
    );
  }
  if (open.holdTime === 1 || open.holdTime === 2) {
    return openError(
      OpenErrorSubcode.UNACCEPTABLE_HOLD_TIME,
      new Uint8Array(0),
      `peer's hold time ${open.holdTime} s is not allowed (0 or at least 3, RFC 4271 §4.2)`,
    );
  }
  let remoteId: number;
  try {
    remoteId = bgpIdToNumber(open.bgpId);
  } catch {
    return openError(
      OpenErrorSubcode.BAD_BGP_IDENTIFIER,
      new Uint8Array(0),
      `peer's BGP identifier "${open.bgpId}" is malformed`,
    );
  }
  if (remoteId === 0) {
    return openError(OpenErrorSubcode.BAD_BGP_IDENTIFIER, new Uint8Array(0), `peer's BGP identifier is 0.0.0.0`);
  }
  if (exp.peerAs === exp.localAs && remoteId === bgpIdToNumber(exp.routerId)) {
    return openError(
      OpenErrorSubcode.BAD_BGP_IDENTIFIER,
      new Uint8Array(0),
      `iBGP peer uses our own BGP identifier ${open.bgpId}; router ids must be unique within the AS`,
    );
  }
  return {
    ok: true,
    peerAs,
    holdTime: negotiateHoldTime(exp.holdTime, open.holdTime),
    fourOctetAs: fourOctet !== undefined,
  };
}
