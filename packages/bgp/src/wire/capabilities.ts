// The table of OPEN capabilities (RFC 5492): code, decode, encode. Unknown codes are kept aside
// and otherwise ignored. Also the negotiation of the codec options from both sides' capabilities.
import { afiSafi, familyFromAfiSafi, readU16, readU32, writeU32 } from './families.js';
import { MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH } from './framing.js';
import {
  AddPathMode,
  type Capabilities,
  type Family,
  type GracefulRestartCapability,
  type SessionCodecOptions,
} from './types.js';

export const CapabilityCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_MESSAGE: 6,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
  ADD_PATH: 69,
  ENHANCED_ROUTE_REFRESH: 70,
  FQDN: 73,
} as const;

/** AS_TRANS (RFC 6793): the 2-octet stand-in for a 4-octet AS number. */
export const AS_TRANS = 23456;

/** A mutable Capabilities under construction. */
interface CapabilitiesDraft {
  multiprotocol: Family[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  fourOctetAs?: number;
  gracefulRestart?: GracefulRestartCapability;
  extendedMessage: boolean;
  addPath: { family: Family; mode: AddPathMode }[];
  fqdn?: { hostname: string; domain: string };
  unknown: { code: number; value: Uint8Array }[];
}

/** How one capability is read and written. `decode` returns a reason when the value is malformed. */
interface CapabilityCodec {
  readonly code: number;
  readonly name: string;
  decode(v: Uint8Array, into: CapabilitiesDraft): string | undefined;
  /** The values to send (one capability TLV each); none when the capability is off. */
  encode(c: Capabilities): Uint8Array[];
}

const latin = new TextDecoder('utf-8');
const utf8 = new TextEncoder();

const CAPABILITY_TABLE: readonly CapabilityCodec[] = [
  {
    code: CapabilityCode.MULTIPROTOCOL,
    name: 'multiprotocol',
    decode(v, into) {
      if (v.length !== 4) return `multiprotocol capability is ${v.length} bytes, expected 4`;
      const family = familyFromAfiSafi(readU16(v, 0), v[3]!);
      if (family === undefined) into.unknown.push({ code: CapabilityCode.MULTIPROTOCOL, value: v });
      else if (!into.multiprotocol.includes(family)) into.multiprotocol.push(family);
      return undefined;
    },
    encode(c) {
      return c.multiprotocol.map((f) => {
        const { afi, safi } = afiSafi(f);
        return Uint8Array.of(afi >>> 8, afi & 255, 0, safi);
      });
    },
  },
  {
    code: CapabilityCode.ROUTE_REFRESH,
    name: 'route refresh',
    decode(_v, into) {
      into.routeRefresh = true;
      return undefined;
    },
    encode: (c) => (c.routeRefresh ? [new Uint8Array(0)] : []),
  },
  {
    code: CapabilityCode.EXTENDED_MESSAGE,
    name: 'extended message',
    decode(_v, into) {
      into.extendedMessage = true;
      return undefined;
    },
    encode: (c) => (c.extendedMessage ? [new Uint8Array(0)] : []),
  },
  {
    code: CapabilityCode.GRACEFUL_RESTART,
    name: 'graceful restart',
    decode(v, into) {
      if (v.length < 2 || (v.length - 2) % 4 !== 0)
        return `graceful restart capability is ${v.length} bytes, expected 2 + 4 per family`;
      const families: { family: Family; forwarding: boolean }[] = [];
      for (let i = 2; i < v.length; i += 4) {
        const family = familyFromAfiSafi(readU16(v, i), v[i + 2]!);
        if (family !== undefined) families.push({ family, forwarding: (v[i + 3]! & 0x80) !== 0 });
      }
      into.gracefulRestart = {
        restarting: (v[0]! & 0x80) !== 0,
        notification: (v[0]! & 0x40) !== 0,
        restartTime: readU16(v, 0) & 0x0fff,
        families,
      };
      return undefined;
    },
    encode(c) {
      const gr = c.gracefulRestart;
      if (gr === undefined) return [];
      const v = new Uint8Array(2 + 4 * gr.families.length);
      const t = Math.min(Math.max(0, Math.trunc(gr.restartTime)), 0x0fff);
      v[0] = (gr.restarting ? 0x80 : 0) | (gr.notification ? 0x40 : 0) | (t >>> 8);
      v[1] = t & 255;
      gr.families.forEach((f, k) => {
        const { afi, safi } = afiSafi(f.family);
        v.set([afi >>> 8, afi & 255, safi, f.forwarding ? 0x80 : 0], 2 + 4 * k);
      });
      return [v];
    },
  },
  {
    code: CapabilityCode.FOUR_OCTET_AS,
    name: '4-octet AS',
    decode(v, into) {
      if (v.length !== 4) return `4-octet AS capability is ${v.length} bytes, expected 4`;
      into.fourOctetAs = readU32(v, 0);
      return undefined;
    },
    encode(c) {
      if (c.fourOctetAs === undefined) return [];
      const v = new Uint8Array(4);
      writeU32(v, 0, c.fourOctetAs);
      return [v];
    },
  },
  {
    code: CapabilityCode.ADD_PATH,
    name: 'ADD-PATH',
    decode(v, into) {
      if (v.length === 0 || v.length % 4 !== 0)
        return `ADD-PATH capability is ${v.length} bytes, expected 4 per family`;
      for (let i = 0; i < v.length; i += 4) {
        const family = familyFromAfiSafi(readU16(v, i), v[i + 2]!);
        const mode = v[i + 3]!;
        if (family === undefined || mode < 1 || mode > 3) continue; // RFC 7911: ignore what we do not know
        const existing = into.addPath.findIndex((a) => a.family === family);
        const entry = { family, mode: mode as AddPathMode };
        if (existing === -1) into.addPath.push(entry);
        else into.addPath[existing] = entry;
      }
      return undefined;
    },
    encode(c) {
      if (c.addPath.length === 0) return [];
      const v = new Uint8Array(4 * c.addPath.length);
      c.addPath.forEach((a, k) => {
        const { afi, safi } = afiSafi(a.family);
        v.set([afi >>> 8, afi & 255, safi, a.mode], 4 * k);
      });
      return [v];
    },
  },
  {
    code: CapabilityCode.ENHANCED_ROUTE_REFRESH,
    name: 'enhanced route refresh',
    decode(_v, into) {
      into.enhancedRouteRefresh = true;
      return undefined;
    },
    encode: (c) => (c.enhancedRouteRefresh ? [new Uint8Array(0)] : []),
  },
  {
    code: CapabilityCode.FQDN,
    name: 'hostname',
    decode(v, into) {
      const hl = v[0];
      if (hl === undefined || 1 + hl > v.length) return `hostname capability: hostname runs past the value`;
      const hostname = latin.decode(v.subarray(1, 1 + hl));
      const dl = v[1 + hl] ?? 0; // a missing domain length is read as an empty domain
      if (2 + hl + dl > v.length) return `hostname capability: domain runs past the value`;
      into.fqdn = { hostname, domain: latin.decode(v.subarray(2 + hl, 2 + hl + dl)) };
      return undefined;
    },
    encode(c) {
      if (c.fqdn === undefined) return [];
      const h = utf8.encode(c.fqdn.hostname).subarray(0, 64);
      const d = utf8.encode(c.fqdn.domain).subarray(0, 64);
      const v = new Uint8Array(2 + h.length + d.length);
      v[0] = h.length;
      v.set(h, 1);
      v[1 + h.length] = d.length;
      v.set(d, 2 + h.length);
      return [v];
    },
  },
];

const byCode = new Map<number, CapabilityCodec>(CAPABILITY_TABLE.map((c) => [c.code, c]));

/** Capabilities with nothing in them: the start for building local capabilities. */
export const NO_CAPABILITIES: Capabilities = {
  multiprotocol: [],
  routeRefresh: false,
  enhancedRouteRefresh: false,
  extendedMessage: false,
  addPath: [],
  unknown: [],
};

export function newCapabilitiesDraft(): CapabilitiesDraft {
  return {
    multiprotocol: [],
    routeRefresh: false,
    enhancedRouteRefresh: false,
    extendedMessage: false,
    addPath: [],
    unknown: [],
  };
}

/**
 * Reads one capability TLV's value into the draft. Unknown codes are kept in `unknown`.
 * Returns a reason when a known capability is malformed.
 */
export function decodeCapability(code: number, value: Uint8Array, into: CapabilitiesDraft): string | undefined {
  const c = byCode.get(code);
  if (c === undefined) {
    into.unknown.push({ code, value: value.slice() });
    return undefined;
  }
  return c.decode(value, into);
}

export function finishCapabilities(d: CapabilitiesDraft): Capabilities {
  return d;
}

/** The capability TLVs (code, length, value) for `c`, in table order, then the unknown ones. */
export function encodeCapabilityTlvs(c: Capabilities): Uint8Array[] {
  const out: Uint8Array[] = [];
  const push = (code: number, v: Uint8Array) => {
    if (v.length > 255) throw new RangeError(`capability ${code} value is ${v.length} bytes, more than 255`);
    const t = new Uint8Array(2 + v.length);
    t[0] = code;
    t[1] = v.length;
    t.set(v, 2);
    out.push(t);
  };
  for (const codec of CAPABILITY_TABLE) for (const v of codec.encode(c)) push(codec.code, v);
  for (const u of c.unknown) push(u.code, u.value);
  return out;
}

/**
 * The codec options once both OPENs are known: 4-octet AS when both sent the capability,
 * ADD-PATH per family and direction (RFC 7911 §4), extended messages when both sent it (RFC 8654).
 */
export function negotiateCodecOptions(local: Capabilities, remote: Capabilities): SessionCodecOptions {
  const addPathReceive = new Set<Family>();
  const addPathSend = new Set<Family>();
  for (const l of local.addPath) {
    const r = remote.addPath.find((a) => a.family === l.family);
    if (r === undefined) continue;
    if (l.mode & AddPathMode.RECEIVE && r.mode & AddPathMode.SEND) addPathReceive.add(l.family);
    if (l.mode & AddPathMode.SEND && r.mode & AddPathMode.RECEIVE) addPathSend.add(l.family);
  }
  return {
    fourOctetAs: local.fourOctetAs !== undefined && remote.fourOctetAs !== undefined,
    addPathReceive,
    addPathSend,
    maxMessageLength:
      local.extendedMessage && remote.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH,
  };
}

/** The families both sides enabled (RFC 4760 §6); IPv4 unicast is implied when neither sent the capability. */
export function negotiatedFamilies(local: Capabilities, remote: Capabilities): Family[] {
  const l = local.multiprotocol.length === 0 ? (['ipv4-unicast'] as Family[]) : local.multiprotocol;
  const r = remote.multiprotocol.length === 0 ? (['ipv4-unicast'] as Family[]) : remote.multiprotocol;
  return l.filter((f) => r.includes(f));
}
