// Test helpers: fixtures, message builders from annotated hex, codec option presets.
import { readFileSync } from 'node:fs';
import {
  DEFAULT_CODEC_OPTIONS,
  type Family,
  fromHex,
  MessageFramer,
  type SessionCodecOptions,
  toHex,
} from '../../src/wire/index.js';

/** Bytes of a fixture under test/fixtures (hex with # comment lines). */
export function fixture(name: string): Uint8Array {
  return fromHex(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));
}

/** Every message in a stream fixture. */
export function fixtureMessages(name: string): Uint8Array[] {
  const f = new MessageFramer();
  f.setMaxMessageLength(65535);
  f.push(fixture(name));
  const out: Uint8Array[] = [];
  for (let m = f.next(); m !== undefined; m = f.next()) out.push(m);
  if (f.buffered !== 0) throw new Error(`${name}: ${f.buffered} trailing bytes`);
  return out;
}

/**
 * Hex with annotations: `//` comments to the end of the line are dropped, as are spaces and
 * newlines, so test bytes can be written one field per line.
 */
export function hx(text: string): Uint8Array {
  return fromHex(
    text
      .split('\n')
      .map((l) => l.replace(/\/\/.*$/, ''))
      .join(''),
  );
}

/** A whole message: the 16-byte marker, the computed length and `type`, then `body`. */
export function message(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(19 + body.length);
  out.fill(0xff, 0, 16);
  out[16] = out.length >> 8;
  out[17] = out.length & 255;
  out[18] = type;
  out.set(body, 19);
  return out;
}

/** An UPDATE with the two length fields computed: withdrawn, attributes, NLRI (annotated hex each). */
export function update(withdrawn: string, attributes: string, nlri = ''): Uint8Array {
  const w = hx(withdrawn);
  const a = hx(attributes);
  const n = hx(nlri);
  const body = new Uint8Array(4 + w.length + a.length + n.length);
  body[0] = w.length >> 8;
  body[1] = w.length & 255;
  body.set(w, 2);
  body[2 + w.length] = a.length >> 8;
  body[3 + w.length] = a.length & 255;
  body.set(a, 4 + w.length);
  body.set(n, 4 + w.length + a.length);
  return message(2, body);
}

export const hex = toHex;

export const AS2: SessionCodecOptions = DEFAULT_CODEC_OPTIONS;
export const AS4: SessionCodecOptions = { ...DEFAULT_CODEC_OPTIONS, fourOctetAs: true };
export const AS4_EXT: SessionCodecOptions = { ...AS4, maxMessageLength: 65535 };

export function addPath(base: SessionCodecOptions, receive: Family[], send: Family[] = receive): SessionCodecOptions {
  return { ...base, addPathReceive: new Set(receive), addPathSend: new Set(send) };
}

/** Minimal valid attributes for IPv4 NLRI on a 4-octet session: ORIGIN IGP, AS_PATH 65001, NEXT_HOP 192.0.2.1. */
export const BASE_ATTRS_AS4 = `
  40 01 01 00                   // ORIGIN IGP
  40 02 06 02 01 00 00 fd e9    // AS_PATH SEQUENCE [65001]
  40 03 04 c0 00 02 01          // NEXT_HOP 192.0.2.1
`;
