// UPDATE (RFC 4271 §4.3, RFC 4760): decode with RFC 7606 error handling, encode, packing of many
// NLRI per message, End-of-RIB (RFC 4724 §2), and the fast IPv4 path for the RIB.
import {
  AttrFlag,
  type AttributesOutcome,
  AttrType,
  decodePathAttributes,
  encodePathAttributes,
  writeAttribute,
} from './attributes.js';
import { ByteWriter } from './bytes.js';
import { BgpError, EncodeError, NotificationCode, UpdateSubcode } from './errors.js';
import { familyCodec, MalformedNlriError, type NextHopAddresses, readU16, readU32 } from './families.js';
import { HEADER_LENGTH, writeHeader } from './framing.js';
import {
  type Family,
  MessageType,
  type MpReach,
  type MpUnreach,
  type Nlri,
  type PathAttributes,
  type SessionCodecOptions,
  type UpdateMessage,
} from './types.js';

const IPV4: Family = 'ipv4-unicast';
const ipv4Codec = familyCodec(IPV4);

export type UpdateDecodeResult =
  | { readonly kind: 'message'; readonly message: UpdateMessage; readonly warnings: readonly string[] }
  | { readonly kind: 'treat-as-withdraw'; readonly message: UpdateMessage; readonly reason: string };

interface UpdateLayout {
  readonly withdrawnStart: number;
  readonly withdrawnEnd: number;
  readonly attrStart: number;
  readonly attrEnd: number;
  readonly nlriEnd: number;
}

function layout(frame: Uint8Array): UpdateLayout {
  const b = HEADER_LENGTH;
  const end = frame.length;
  const wl = readU16(frame, b);
  const withdrawnStart = b + 2;
  const withdrawnEnd = withdrawnStart + wl;
  if (withdrawnEnd + 2 > end)
    throw new BgpError(
      NotificationCode.UPDATE_MESSAGE_ERROR,
      UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
      `Withdrawn Routes Length ${wl} runs past the message`,
    );
  const tal = readU16(frame, withdrawnEnd);
  const attrStart = withdrawnEnd + 2;
  const attrEnd = attrStart + tal;
  if (attrEnd > end)
    throw new BgpError(
      NotificationCode.UPDATE_MESSAGE_ERROR,
      UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
      `Total Path Attribute Length ${tal} runs past the message`,
    );
  return { withdrawnStart, withdrawnEnd, attrStart, attrEnd, nlriEnd: end };
}

function invalidNetwork(what: string, e: unknown): never {
  if (e instanceof MalformedNlriError)
    throw new BgpError(
      NotificationCode.UPDATE_MESSAGE_ERROR,
      UpdateSubcode.INVALID_NETWORK_FIELD,
      `${what}: ${e.message}`,
    );
  throw e;
}

/** RFC 4271 §6.3 / RFC 7606 §3(d): the checks made once all attributes are read. */
function missingOrInvalid(
  attrs: PathAttributes,
  hasBodyNlri: boolean,
  mpReach: MpReach | undefined,
): string | undefined {
  if (!hasBodyNlri && mpReach === undefined) return undefined;
  if (attrs.origin === undefined) return 'ORIGIN is missing';
  if (attrs.asPath === undefined) return 'AS_PATH is missing';
  if (hasBodyNlri) {
    if (attrs.nextHop === undefined) return 'NEXT_HOP is missing';
    const first = Number.parseInt(attrs.nextHop, 10);
    if (attrs.nextHop === '0.0.0.0' || attrs.nextHop === '255.255.255.255' || (first >= 224 && first <= 239))
      return `NEXT_HOP ${attrs.nextHop} is not a unicast address`;
  }
  return undefined;
}

/** Decodes an UPDATE (frame with its checked header). Throws BgpError for session-reset errors. */
export function decodeUpdate(frame: Uint8Array, opts: SessionCodecOptions): UpdateDecodeResult {
  const l = layout(frame);
  const addPath = opts.addPathReceive.has(IPV4);
  let withdrawn: Nlri[];
  try {
    withdrawn = ipv4Codec.decodeNlri(frame, l.withdrawnStart, l.withdrawnEnd, addPath);
  } catch (e) {
    invalidNetwork('Withdrawn Routes', e);
  }
  const a = decodePathAttributes(frame, l.attrStart, l.attrEnd, opts);
  let nlri: Nlri[];
  try {
    nlri = ipv4Codec.decodeNlri(frame, l.attrEnd, l.nlriEnd, addPath);
  } catch (e) {
    invalidNetwork('NLRI', e);
  }
  const message: { -readonly [K in keyof UpdateMessage]: UpdateMessage[K] } = {
    type: MessageType.UPDATE,
    withdrawn,
    attributes: a.attributes,
    nlri,
  };
  if (a.mpReach !== undefined) message.mpReach = a.mpReach;
  if (a.mpUnreach !== undefined) message.mpUnreach = a.mpUnreach;
  const reason = a.withdrawReason ?? missingOrInvalid(a.attributes, nlri.length > 0, a.mpReach);
  if (reason !== undefined) return { kind: 'treat-as-withdraw', message, reason };
  return { kind: 'message', message, warnings: a.warnings };
}

// ---- fast IPv4 path ----

/**
 * An UPDATE decoded for the RIB's hot path: IPv4 prefixes as packed numbers (addr * 64 + length,
 * see packIpv4Prefix), the path attributes decoded once, and their raw bytes so attribute sets can
 * be interned by bytes without re-encoding.
 */
export interface FastUpdate {
  /** 'treat-as-withdraw': every prefix in `nlri` and `mpReach` is to be withdrawn (RFC 7606). */
  readonly kind: 'update' | 'treat-as-withdraw';
  /** IPv4 withdrawals, packed: address * 64 + length (see packIpv4Prefix). */
  readonly withdrawn: readonly number[];
  /** Path identifiers of `withdrawn` when ADD-PATH receive is negotiated for IPv4. */
  readonly withdrawnPathIds: readonly number[] | undefined;
  /** IPv4 NLRI, packed: address * 64 + length. */
  readonly nlri: readonly number[];
  readonly nlriPathIds: readonly number[] | undefined;
  readonly attributes: PathAttributes;
  /** The path attribute field as received: a view into the frame (copy it to keep it). */
  readonly rawAttributes: Uint8Array;
  readonly mpReach: MpReach | undefined;
  readonly mpUnreach: MpUnreach | undefined;
  /** Why the UPDATE is treated as withdraw. */
  readonly reason: string | undefined;
  /** Attribute-discard and other notes; empty when all was well. */
  readonly warnings: readonly string[];
}

interface PackedNlri {
  readonly packed: readonly number[];
  readonly pathIds: readonly number[] | undefined;
}

const EMPTY_PACKED: PackedNlri = { packed: Object.freeze([]) as readonly number[], pathIds: undefined };

/** Reads IPv4 NLRI in buf[start, end) into packed numbers; no per-prefix allocation. */
function packIpv4(buf: Uint8Array, start: number, end: number, addPath: boolean): PackedNlri {
  if (start === end) return EMPTY_PACKED;
  // count first (lengths only), so the arrays are allocated once at their size
  let count = 0;
  const step = addPath ? 4 : 0;
  for (let j = start; j < end; count++) {
    const len = buf[j + step];
    if (len === undefined || len > 32) break; // the decoding loop below says what is wrong
    j += step + 1 + ((len + 7) >> 3);
  }
  const packed: number[] = new Array(count);
  const pathIds: number[] | undefined = addPath ? new Array(count) : undefined;
  let k = 0;
  let i = start;
  while (i < end) {
    if (pathIds !== undefined) {
      if (i + 4 > end) throw new MalformedNlriError(`path identifier at byte ${i} runs past the end of the NLRI field`);
      pathIds[k] = readU32(buf, i);
      i += 4;
    }
    if (i >= end) throw new MalformedNlriError(`prefix length missing at byte ${i}`);
    const len = buf[i]!;
    if (len > 32) throw new MalformedNlriError(`IPv4 prefix length ${len} is more than 32`);
    const nb = (len + 7) >> 3;
    if (i + 1 + nb > end) throw new MalformedNlriError(`a /${len} prefix runs past the end of the field`);
    let addr = 0;
    switch (nb) {
      case 4:
        addr = (buf[i + 1]! << 24) | (buf[i + 2]! << 16) | (buf[i + 3]! << 8) | buf[i + 4]!;
        break;
      case 3:
        addr = (buf[i + 1]! << 24) | (buf[i + 2]! << 16) | (buf[i + 3]! << 8);
        break;
      case 2:
        addr = (buf[i + 1]! << 24) | (buf[i + 2]! << 16);
        break;
      case 1:
        addr = buf[i + 1]! << 24;
        break;
    }
    i += 1 + nb;
    addr = len === 0 ? 0 : (addr & (0xffffffff << (32 - len))) >>> 0;
    packed[k++] = addr * 64 + len;
  }
  packed.length = k;
  if (pathIds !== undefined) pathIds.length = k;
  return { packed, pathIds };
}

/** FastUpdate with the raw attribute view made only when asked for (a subarray per UPDATE costs). */
class FastUpdateResult implements FastUpdate {
  readonly kind: 'update' | 'treat-as-withdraw';
  readonly withdrawn: readonly number[];
  readonly withdrawnPathIds: readonly number[] | undefined;
  readonly nlri: readonly number[];
  readonly nlriPathIds: readonly number[] | undefined;
  readonly attributes: PathAttributes;
  readonly mpReach: MpReach | undefined;
  readonly mpUnreach: MpUnreach | undefined;
  readonly reason: string | undefined;
  readonly warnings: readonly string[];
  readonly #frame: Uint8Array;
  readonly #attrStart: number;
  readonly #attrEnd: number;

  constructor(
    frame: Uint8Array,
    attrStart: number,
    attrEnd: number,
    w: PackedNlri,
    n: PackedNlri,
    a: AttributesOutcome,
    reason: string | undefined,
  ) {
    this.kind = reason === undefined ? 'update' : 'treat-as-withdraw';
    this.withdrawn = w.packed;
    this.withdrawnPathIds = w.pathIds;
    this.nlri = n.packed;
    this.nlriPathIds = n.pathIds;
    this.attributes = a.attributes;
    this.mpReach = a.mpReach;
    this.mpUnreach = a.mpUnreach;
    this.reason = reason;
    this.warnings = a.warnings;
    this.#frame = frame;
    this.#attrStart = attrStart;
    this.#attrEnd = attrEnd;
  }

  get rawAttributes(): Uint8Array {
    return this.#frame.subarray(this.#attrStart, this.#attrEnd);
  }
}

/**
 * The fast path for the RIB: decodes an UPDATE frame (header checked, e.g. by MessageFramer) with
 * IPv4 NLRI as packed numbers. Same RFC 7606 handling as decodeMessage; throws BgpError.
 */
export function decodeUpdateFast(frame: Uint8Array, opts: SessionCodecOptions): FastUpdate {
  const l = layout(frame);
  const addPath = opts.addPathReceive.has(IPV4);
  let w: PackedNlri;
  try {
    w = packIpv4(frame, l.withdrawnStart, l.withdrawnEnd, addPath);
  } catch (e) {
    invalidNetwork('Withdrawn Routes', e);
  }
  const a = decodePathAttributes(frame, l.attrStart, l.attrEnd, opts);
  let n: PackedNlri;
  try {
    n = packIpv4(frame, l.attrEnd, l.nlriEnd, addPath);
  } catch (e) {
    invalidNetwork('NLRI', e);
  }
  const reason = a.withdrawReason ?? missingOrInvalid(a.attributes, n.packed.length > 0, a.mpReach);
  return new FastUpdateResult(frame, l.attrStart, l.attrEnd, w, n, a, reason);
}

/** The family whose End-of-RIB a FastUpdate is, or undefined (same rule as isEndOfRib). */
export function fastUpdateEndOfRib(u: FastUpdate): Family | undefined {
  if (u.kind !== 'update' || u.withdrawn.length !== 0 || u.nlri.length !== 0 || u.mpReach !== undefined)
    return undefined;
  for (const _ in u.attributes) return undefined;
  if (u.mpUnreach === undefined) return IPV4;
  return u.mpUnreach.withdrawn.length === 0 ? u.mpUnreach.family : undefined;
}

// ---- encode ----

function mpUnreachValue(u: MpUnreach, opts: SessionCodecOptions): Uint8Array {
  const codec = familyCodec(u.family);
  const addPath = opts.addPathSend.has(u.family);
  let size = 3;
  for (const n of u.withdrawn) size += codec.nlriWireLength(n, addPath);
  const v = new Uint8Array(size);
  v[0] = codec.afi >>> 8;
  v[1] = codec.afi & 255;
  v[2] = codec.safi;
  let p = 3;
  for (const n of u.withdrawn) p = codec.writeNlri(v, p, n, addPath);
  return v;
}

function mpReachValue(r: MpReach, opts: SessionCodecOptions): Uint8Array {
  const codec = familyCodec(r.family);
  const addPath = opts.addPathSend.has(r.family);
  const nh = codec.encodeNextHop(r);
  let size = 5 + nh.length;
  for (const n of r.nlri) size += codec.nlriWireLength(n, addPath);
  const v = new Uint8Array(size);
  v[0] = codec.afi >>> 8;
  v[1] = codec.afi & 255;
  v[2] = codec.safi;
  v[3] = nh.length;
  v.set(nh, 4);
  v[4 + nh.length] = 0;
  let p = 5 + nh.length;
  for (const n of r.nlri) p = codec.writeNlri(v, p, n, addPath);
  return v;
}

/** Encodes one UPDATE; throws EncodeError when it exceeds opts.maxMessageLength (use encodeUpdates to pack). */
export function encodeUpdate(m: UpdateMessage, opts: SessionCodecOptions): Uint8Array {
  const addPath = opts.addPathSend.has(IPV4);
  const w = new ByteWriter(512);
  w.pos = HEADER_LENGTH + 2;
  for (const n of m.withdrawn) {
    w.ensure(9);
    w.pos = ipv4Codec.writeNlri(w.buf, w.pos, n, addPath);
  }
  const wl = w.pos - HEADER_LENGTH - 2;
  const talAt = w.pos;
  w.u16(0);
  if (m.mpUnreach !== undefined)
    writeAttribute(w, AttrFlag.OPTIONAL, AttrType.MP_UNREACH_NLRI, mpUnreachValue(m.mpUnreach, opts));
  if (m.mpReach !== undefined)
    writeAttribute(w, AttrFlag.OPTIONAL, AttrType.MP_REACH_NLRI, mpReachValue(m.mpReach, opts));
  encodePathAttributes(m.attributes, opts, w);
  const tal = w.pos - talAt - 2;
  for (const n of m.nlri) {
    w.ensure(9);
    w.pos = ipv4Codec.writeNlri(w.buf, w.pos, n, addPath);
  }
  const length = w.pos;
  if (length > opts.maxMessageLength)
    throw new EncodeError(
      `UPDATE of ${length} bytes exceeds the ${opts.maxMessageLength}-byte limit; pack it with encodeUpdates`,
    );
  const out = w.buf.slice(0, length);
  writeHeader(out, length, MessageType.UPDATE);
  out[HEADER_LENGTH] = wl >>> 8;
  out[HEADER_LENGTH + 1] = wl & 255;
  out[talAt] = tal >>> 8;
  out[talAt + 1] = tal & 255;
  return out;
}

// Attribute bytes are built here then copied into each message; the encoders are synchronous.
const scratch = new ByteWriter(4096);

/**
 * The path attribute field of an IPv4 UPDATE carrying `attrs` with NEXT_HOP `nextHop`: a view into
 * a scratch buffer, valid until the next encoding call (copy it to keep it).
 */
export function encodeIpv4Attributes(attrs: PathAttributes, nextHop: string, opts: SessionCodecOptions): Uint8Array {
  const aw = scratch;
  aw.pos = 0;
  encodePathAttributes(attrs, opts, aw, nextHop);
  return aw.buf.subarray(0, aw.pos);
}

/** Next hop for encodeUpdates: IPv4 text, or IPv6 global plus optional link-local. */
export type UpdateNextHop = string | NextHopAddresses;

function nextHopAddresses(nh: UpdateNextHop): NextHopAddresses {
  return typeof nh === 'string' ? { nextHop: nh } : nh;
}

/**
 * Packs `nlri` of `family` sharing `attrs` into as few UPDATEs as fit opts.maxMessageLength.
 * IPv4 goes in the UPDATE body with a NEXT_HOP attribute; IPv6 in MP_REACH_NLRI (global and
 * optional link-local next hop). The attribute bytes are encoded once.
 */
export function encodeUpdates(
  attrs: PathAttributes,
  nlri: readonly Nlri[],
  family: Family,
  nextHop: UpdateNextHop,
  opts: SessionCodecOptions,
): Uint8Array[] {
  const codec = familyCodec(family);
  const addPath = opts.addPathSend.has(family);
  const nh = nextHopAddresses(nextHop);
  const max = opts.maxMessageLength;
  const aw = scratch;
  aw.pos = 0;
  const out: Uint8Array[] = [];
  if (family === IPV4) {
    encodePathAttributes(attrs, opts, aw, nh.nextHop);
    const attrBytes = aw.buf.subarray(0, aw.pos);
    const fixed = HEADER_LENGTH + 4 + attrBytes.length;
    if (fixed + 9 > max && nlri.length > 0)
      throw new EncodeError(`path attributes of ${attrBytes.length} bytes leave no room for NLRI in ${max} bytes`);
    let i = 0;
    while (i < nlri.length) {
      let size = fixed;
      let j = i;
      while (j < nlri.length) {
        const s = codec.nlriWireLength(nlri[j]!, addPath);
        if (size + s > max) break;
        size += s;
        j++;
      }
      const msg = new Uint8Array(size);
      writeHeader(msg, size, MessageType.UPDATE);
      msg[HEADER_LENGTH + 2] = attrBytes.length >>> 8;
      msg[HEADER_LENGTH + 3] = attrBytes.length & 255;
      msg.set(attrBytes, HEADER_LENGTH + 4);
      let p = fixed;
      for (let k = i; k < j; k++) p = codec.writeNlri(msg, p, nlri[k]!, addPath);
      out.push(msg);
      i = j;
    }
    return out;
  }
  const { nextHop: _drop, ...rest } = attrs;
  encodePathAttributes(rest, opts, aw);
  const attrBytes = aw.buf.subarray(0, aw.pos);
  const nhBytes = codec.encodeNextHop(nh);
  const mpFixed = 5 + nhBytes.length;
  // header + lengths + MP_REACH header (4, extended length) + its fixed part + the other attributes
  const fixed = HEADER_LENGTH + 4 + 4 + mpFixed + attrBytes.length;
  if (fixed + 21 > max && nlri.length > 0)
    throw new EncodeError(`path attributes of ${attrBytes.length} bytes leave no room for NLRI in ${max} bytes`);
  let i = 0;
  while (i < nlri.length) {
    let size = fixed;
    let j = i;
    while (j < nlri.length) {
      const s = codec.nlriWireLength(nlri[j]!, addPath);
      if (size + s > max) break;
      size += s;
      j++;
    }
    const v = new Uint8Array(size - fixed + mpFixed);
    v[0] = codec.afi >>> 8;
    v[1] = codec.afi & 255;
    v[2] = codec.safi;
    v[3] = nhBytes.length;
    v.set(nhBytes, 4);
    let p = mpFixed;
    for (let k = i; k < j; k++) p = codec.writeNlri(v, p, nlri[k]!, addPath);
    const w = new ByteWriter(size);
    w.pos = HEADER_LENGTH + 4;
    writeAttribute(w, AttrFlag.OPTIONAL, AttrType.MP_REACH_NLRI, v);
    w.bytes(attrBytes);
    out.push(finishBodyOnly(w));
    i = j;
  }
  return out;
}

/** Completes an UPDATE whose body is [wl=0][tal][attributes] with no body NLRI. */
function finishBodyOnly(w: ByteWriter): Uint8Array {
  const msg = w.buf.slice(0, w.pos);
  writeHeader(msg, msg.length, MessageType.UPDATE);
  const tal = msg.length - HEADER_LENGTH - 4;
  msg[HEADER_LENGTH] = 0;
  msg[HEADER_LENGTH + 1] = 0;
  msg[HEADER_LENGTH + 2] = tal >>> 8;
  msg[HEADER_LENGTH + 3] = tal & 255;
  return msg;
}

/** Packs withdrawals of `family` into as few UPDATEs as fit (IPv4 in the body, IPv6 in MP_UNREACH_NLRI). */
export function encodeWithdrawals(nlri: readonly Nlri[], family: Family, opts: SessionCodecOptions): Uint8Array[] {
  const codec = familyCodec(family);
  const addPath = opts.addPathSend.has(family);
  const max = opts.maxMessageLength;
  const out: Uint8Array[] = [];
  const fixed = family === IPV4 ? HEADER_LENGTH + 4 : HEADER_LENGTH + 4 + 4 + 3;
  let i = 0;
  while (i < nlri.length) {
    let size = fixed;
    let j = i;
    while (j < nlri.length) {
      const s = codec.nlriWireLength(nlri[j]!, addPath);
      if (size + s > max) break;
      size += s;
      j++;
    }
    if (family === IPV4) {
      const msg = new Uint8Array(size);
      writeHeader(msg, size, MessageType.UPDATE);
      const wl = size - fixed;
      msg[HEADER_LENGTH] = wl >>> 8;
      msg[HEADER_LENGTH + 1] = wl & 255;
      let p = HEADER_LENGTH + 2;
      for (let k = i; k < j; k++) p = codec.writeNlri(msg, p, nlri[k]!, addPath);
      out.push(msg);
    } else {
      const w = new ByteWriter(size);
      w.pos = HEADER_LENGTH + 4;
      writeAttribute(
        w,
        AttrFlag.OPTIONAL,
        AttrType.MP_UNREACH_NLRI,
        mpUnreachValue({ family, withdrawn: nlri.slice(i, j) }, opts),
      );
      out.push(finishBodyOnly(w));
    }
    i = j;
  }
  return out;
}

// ---- End-of-RIB (RFC 4724 §2) ----

/** The End-of-RIB marker for a family: an empty UPDATE (IPv4) or one with an empty MP_UNREACH_NLRI. */
export function endOfRib(family: Family): UpdateMessage {
  if (family === IPV4) return { type: MessageType.UPDATE, withdrawn: [], attributes: {}, nlri: [] };
  return { type: MessageType.UPDATE, withdrawn: [], attributes: {}, mpUnreach: { family, withdrawn: [] }, nlri: [] };
}

/** The family whose End-of-RIB this is, or undefined when it is an ordinary UPDATE. */
export function isEndOfRib(m: UpdateMessage): Family | undefined {
  if (m.withdrawn.length !== 0 || m.nlri.length !== 0 || m.mpReach !== undefined) return undefined;
  for (const _ in m.attributes) return undefined;
  if (m.mpUnreach === undefined) return IPV4;
  return m.mpUnreach.withdrawn.length === 0 ? m.mpUnreach.family : undefined;
}
