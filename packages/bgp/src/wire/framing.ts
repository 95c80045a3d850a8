// The message header (RFC 4271 §4.1) and framing of a byte stream into whole messages.
import { BgpError, HeaderSubcode, NotificationCode } from './errors.js';
import { MessageType } from './types.js';

export const HEADER_LENGTH = 19;
export const MARKER_LENGTH = 16;
/** Largest message without RFC 8654 extended messages. */
export const MAX_MESSAGE_LENGTH = 4096;
/** Largest message with RFC 8654 extended messages. */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;

/** Smallest legal length per message type (RFC 4271 §4, RFC 2918), and whether it is also the largest. */
const LENGTH_RULES: Record<number, { readonly min: number; readonly exact: boolean }> = {
  [MessageType.OPEN]: { min: 29, exact: false },
  [MessageType.UPDATE]: { min: 23, exact: false },
  [MessageType.NOTIFICATION]: { min: 21, exact: false },
  [MessageType.KEEPALIVE]: { min: 19, exact: true },
  // ROUTE-REFRESH length errors are code 7 (RFC 7313), checked by its decoder, so only the header minimum here.
  [MessageType.ROUTE_REFRESH]: { min: 19, exact: false },
};

function lengthData(length: number): Uint8Array {
  return Uint8Array.of(length >>> 8, length & 255);
}

/**
 * Checks a header at buf[offset..offset+19): marker, length against `maxLength` and the per-type
 * bounds, type. Returns the message length; throws BgpError (code 1) with RFC 4271 §6.1 data.
 */
export function checkHeader(buf: Uint8Array, offset: number, maxLength: number): number {
  for (let i = 0; i < MARKER_LENGTH; i++) {
    if (buf[offset + i] !== 0xff)
      throw new BgpError(
        NotificationCode.MESSAGE_HEADER_ERROR,
        HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED,
        `marker byte ${i} is 0x${(buf[offset + i] ?? 0).toString(16).padStart(2, '0')}, not 0xff`,
      );
  }
  const length = (buf[offset + 16]! << 8) | buf[offset + 17]!;
  const type = buf[offset + 18]!;
  const rule = LENGTH_RULES[type];
  if (length < HEADER_LENGTH || length > maxLength)
    throw new BgpError(
      NotificationCode.MESSAGE_HEADER_ERROR,
      HeaderSubcode.BAD_MESSAGE_LENGTH,
      `message length ${length} is outside ${HEADER_LENGTH}..${maxLength}`,
      lengthData(length),
    );
  if (rule === undefined)
    throw new BgpError(
      NotificationCode.MESSAGE_HEADER_ERROR,
      HeaderSubcode.BAD_MESSAGE_TYPE,
      `message type ${type} is not one Tortie knows (1..5)`,
      Uint8Array.of(type),
    );
  // RFC 8654: OPEN (and KEEPALIVE) never exceed 4096 bytes, extended messages or not.
  const max = type === MessageType.OPEN ? Math.min(maxLength, MAX_MESSAGE_LENGTH) : maxLength;
  if (length < rule.min || (rule.exact && length !== rule.min) || length > max)
    throw new BgpError(
      NotificationCode.MESSAGE_HEADER_ERROR,
      HeaderSubcode.BAD_MESSAGE_LENGTH,
      `length ${length} is not valid for a message of type ${type} (${rule.exact ? 'exactly' : 'at least'} ${rule.min}${rule.exact ? '' : `, at most ${max}`})`,
      lengthData(length),
    );
  return length;
}

/** Writes the 19-byte header (marker, length, type) at the start of `out`. */
export function writeHeader(out: Uint8Array, length: number, type: number): void {
  out.fill(0xff, 0, MARKER_LENGTH);
  out[16] = length >>> 8;
  out[17] = length & 255;
  out[18] = type;
}

/**
 * Turns a byte stream into whole messages, correct at any split point. Messages lying inside one
 * pushed chunk are returned as views of it (no copy): do not reuse a chunk's memory after pushing
 * it. Messages split over chunks are assembled into a fresh array.
 *
 * After an error the framer keeps throwing the same BgpError: the session must send it and close.
 */
export class MessageFramer {
  #chunks: Uint8Array[] = [];
  /** Read position in #chunks[0]. */
  #offset = 0;
  #buffered = 0;
  #maxLength = MAX_MESSAGE_LENGTH;
  #error: BgpError | undefined;
  readonly #header = new Uint8Array(HEADER_LENGTH);

  /** Appends received bytes. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** 4096, or 65535 once RFC 8654 extended messages are negotiated. */
  setMaxMessageLength(n: number): void {
    if (!Number.isInteger(n) || n < MAX_MESSAGE_LENGTH || n > MAX_EXTENDED_MESSAGE_LENGTH)
      throw new RangeError(`maximum message length ${n} must be an integer in 4096..65535`);
    this.#maxLength = n;
  }

  /** Bytes received and not yet returned as messages. */
  get buffered(): number {
    return this.#buffered;
  }

  /** The next whole message (header included), or undefined until more bytes arrive. Throws BgpError. */
  next(): Uint8Array | undefined {
    if (this.#error !== undefined) throw this.#error;
    if (this.#buffered < HEADER_LENGTH) return undefined;
    const first = this.#chunks[0]!;
    let length: number;
    try {
      if (first.length - this.#offset >= HEADER_LENGTH) length = checkHeader(first, this.#offset, this.#maxLength);
      else {
        this.#copyOut(this.#header, HEADER_LENGTH, false);
        length = checkHeader(this.#header, 0, this.#maxLength);
      }
    } catch (e) {
      if (e instanceof BgpError) this.#error = e;
      throw e;
    }
    if (this.#buffered < length) return undefined;
    if (first.length - this.#offset >= length) {
      const msg = first.subarray(this.#offset, this.#offset + length);
      this.#offset += length;
      this.#buffered -= length;
      if (this.#offset === first.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
      return msg;
    }
    const msg = new Uint8Array(length);
    this.#copyOut(msg, length, true);
    return msg;
  }

  /** Copies `n` bytes from the front into `out`; consumes them when `consume`. */
  #copyOut(out: Uint8Array, n: number, consume: boolean): void {
    let done = 0;
    let ci = 0;
    let off = this.#offset;
    while (done < n) {
      const c = this.#chunks[ci]!;
      const take = Math.min(c.length - off, n - done);
      out.set(c.subarray(off, off + take), done);
      done += take;
      off += take;
      if (off === c.length) {
        ci++;
        off = 0;
      }
    }
    if (consume) {
      this.#chunks.splice(0, ci);
      this.#offset = off;
      this.#buffered -= n;
    }
  }
}
