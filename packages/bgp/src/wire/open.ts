// OPEN (RFC 4271 §4.2) with optional parameters in both formats (RFC 9072) and capabilities.
import {
  AS_TRANS,
  decodeCapability,
  encodeCapabilityTlvs,
  finishCapabilities,
  newCapabilitiesDraft,
} from './capabilities.js';
import { BgpError, NotificationCode, OpenSubcode } from './errors.js';
import { readU16, readU32, writeU32 } from './families.js';
import { HEADER_LENGTH, writeHeader } from './framing.js';
import { numberToIpv4, tryIpv4ToNumber } from './prefix.js';
import { type Capabilities, MessageType, type OpenMessage } from './types.js';

export const BGP_VERSION = 4;
const OPT_PARAM_CAPABILITIES = 2;
/** RFC 9072: Non-Ext OP Type value announcing the extended optional parameters format. */
const OPT_PARAM_EXTENDED = 255;

function openError(subcode: number, message: string, data?: Uint8Array): BgpError {
  return new BgpError(NotificationCode.OPEN_MESSAGE_ERROR, subcode, message, data);
}

/** Decodes an OPEN (frame includes the header, already checked). Throws BgpError (code 2). */
export function decodeOpen(frame: Uint8Array): OpenMessage {
  const b = HEADER_LENGTH;
  const version = frame[b]!;
  if (version !== BGP_VERSION)
    throw openError(
      OpenSubcode.UNSUPPORTED_VERSION_NUMBER,
      `peer speaks BGP version ${version}, Tortie only 4`,
      Uint8Array.of(0, BGP_VERSION),
    );
  const myAs = readU16(frame, b + 1);
  const holdTime = readU16(frame, b + 3);
  const id = readU32(frame, b + 5);
  if (myAs === 0) throw openError(OpenSubcode.BAD_PEER_AS, 'My Autonomous System is 0 (RFC 7607)');
  if (holdTime === 1 || holdTime === 2)
    throw openError(OpenSubcode.UNACCEPTABLE_HOLD_TIME, `hold time ${holdTime} s: must be 0 or at least 3`);
  if (id === 0) throw openError(OpenSubcode.BAD_BGP_IDENTIFIER, 'BGP Identifier is 0.0.0.0');

  const optLen = frame[b + 9]!;
  let p = b + 10;
  let end: number;
  let extended = false;
  if (optLen !== 0 && frame[p] === OPT_PARAM_EXTENDED) {
    // RFC 9072: Non-Ext OP Len (any value, conventionally 255), Non-Ext OP Type 255, then a 2-octet length.
    if (p + 3 > frame.length)
      throw openError(OpenSubcode.UNSPECIFIC, 'extended optional parameters length runs past the message');
    end = p + 3 + readU16(frame, p + 1);
    p += 3;
    extended = true;
  } else end = p + optLen;
  if (end !== frame.length)
    throw openError(
      OpenSubcode.UNSPECIFIC,
      `optional parameters length says the OPEN ends at byte ${end}, the message has ${frame.length}`,
    );

  const draft = newCapabilitiesDraft();
  while (p < end) {
    const hdr = extended ? 3 : 2;
    if (p + hdr > end) throw openError(OpenSubcode.UNSPECIFIC, `optional parameter header at byte ${p} is truncated`);
    const type = frame[p]!;
    const len = extended ? readU16(frame, p + 1) : frame[p + 1]!;
    const vStart = p + hdr;
    const vEnd = vStart + len;
    if (vEnd > end) throw openError(OpenSubcode.UNSPECIFIC, `optional parameter ${type} runs past the parameters`);
    if (type !== OPT_PARAM_CAPABILITIES)
      throw openError(
        OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER,
        `optional parameter type ${type} is not supported (only capabilities, type 2)`,
      );
    let c = vStart;
    while (c < vEnd) {
      if (c + 2 > vEnd) throw openError(OpenSubcode.UNSPECIFIC, `capability header at byte ${c} is truncated`);
      const code = frame[c]!;
      const clen = frame[c + 1]!;
      if (c + 2 + clen > vEnd) throw openError(OpenSubcode.UNSPECIFIC, `capability ${code} runs past its parameter`);
      const reason = decodeCapability(code, frame.subarray(c + 2, c + 2 + clen), draft);
      if (reason !== undefined) throw openError(OpenSubcode.UNSPECIFIC, reason, frame.slice(c, c + 2 + clen));
      c += 2 + clen;
    }
    p = vEnd;
  }
  const capabilities = finishCapabilities(draft);
  if (capabilities.fourOctetAs === 0)
    throw openError(OpenSubcode.BAD_PEER_AS, '4-octet AS capability carries AS 0 (RFC 7607)');
  return { type: MessageType.OPEN, version, myAs, holdTime, bgpId: numberToIpv4(id), capabilities };
}

/** Encodes an OPEN; capabilities go in one parameter, in the RFC 9072 format only when they exceed 255 bytes. */
export function encodeOpen(m: OpenMessage): Uint8Array {
  const id = tryIpv4ToNumber(m.bgpId);
  if (id === undefined) throw new RangeError(`BGP identifier ${JSON.stringify(m.bgpId)} is not a dotted quad`);
  const tlvs = encodeCapabilityTlvs(m.capabilities);
  const capLen = tlvs.reduce((n, t) => n + t.length, 0);
  const extended = capLen + 2 > 255;
  const optLen = capLen === 0 ? 0 : extended ? 3 + 3 + capLen : 2 + capLen;
  const length = HEADER_LENGTH + 10 + optLen;
  const out = new Uint8Array(length);
  writeHeader(out, length, MessageType.OPEN);
  const b = HEADER_LENGTH;
  out[b] = m.version;
  out[b + 1] = m.myAs >>> 8;
  out[b + 2] = m.myAs & 255;
  out[b + 3] = m.holdTime >>> 8;
  out[b + 4] = m.holdTime & 255;
  writeU32(out, b + 5, id);
  let p = b + 10;
  if (capLen > 0) {
    if (extended) {
      out[b + 9] = 255;
      out[p++] = OPT_PARAM_EXTENDED;
      out[p++] = (capLen + 3) >>> 8;
      out[p++] = (capLen + 3) & 255;
      out[p++] = OPT_PARAM_CAPABILITIES;
      out[p++] = capLen >>> 8;
      out[p++] = capLen & 255;
    } else {
      out[b + 9] = optLen;
      out[p++] = OPT_PARAM_CAPABILITIES;
      out[p++] = capLen;
    }
    for (const t of tlvs) {
      out.set(t, p);
      p += t.length;
    }
  }
  return out;
}

/**
 * An OPEN for the local speaker: puts AS_TRANS in My Autonomous System when `asn` needs 4 octets
 * and always announces the 4-octet AS capability with the real number.
 */
export function localOpen(opts: {
  readonly asn: number;
  readonly holdTime: number;
  readonly bgpId: string;
  readonly capabilities: Omit<Capabilities, 'fourOctetAs'>;
}): OpenMessage {
  return {
    type: MessageType.OPEN,
    version: BGP_VERSION,
    myAs: opts.asn > 0xffff ? AS_TRANS : opts.asn,
    holdTime: opts.holdTime,
    bgpId: opts.bgpId,
    capabilities: { ...opts.capabilities, fourOctetAs: opts.asn },
  };
}

/** The peer's real AS number: the 4-octet AS capability when present, else My Autonomous System. */
export function peerAsn(m: OpenMessage): number {
  return m.capabilities.fourOctetAs ?? m.myAs;
}
