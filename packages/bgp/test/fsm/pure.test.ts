import { describe, expect, it } from 'vitest';
import { backoffMs, DEFAULT_CONNECT_RETRY, resolveCollision, validateOpen } from '../../src/fsm/index.js';
import type { Capabilities, OpenMessage } from '../../src/wire/types.js';

const caps: Capabilities = {
  multiprotocol: ['ipv4-unicast'],
  routeRefresh: true,
  enhancedRouteRefresh: false,
  extendedMessage: false,
  addPath: [],
  unknown: [],
};
const open = (patch: Partial<OpenMessage> = {}, capPatch: Partial<Capabilities> = {}): OpenMessage => ({
  type: 1,
  version: 4,
  myAs: 65001,
  holdTime: 90,
  bgpId: '10.0.0.2',
  capabilities: { ...caps, fourOctetAs: 65001, ...capPatch },
  ...patch,
});
const ebgp = { localAs: 65000, routerId: '10.0.0.1', peerAs: 65001, holdTime: 30 };
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

describe('backoff', () => {
  it('doubles from base to the cap, jittered into [0.75, 1] of the value', () => {
    const p = DEFAULT_CONNECT_RETRY;
    expect([0, 1, 2, 3, 4, 5, 6, 7, 10].map((a) => backoffMs(p, a, 1))).toEqual([
      5000, 5000, 10000, 20000, 40000, 80000, 120000, 120000, 120000,
    ]);
    expect(backoffMs(p, 3, 0)).toBe(15000);
    expect(backoffMs(p, 3, 0.5)).toBe(17500);
  });
});

describe('collision resolution (§6.8)', () => {
  it('keeps the connection initiated by the higher BGP identifier', () => {
    expect(resolveCollision('10.0.0.2', '10.0.0.1', 1, 1)).toBe('locally-initiated');
    expect(resolveCollision('10.0.0.1', '10.0.0.2', 1, 1)).toBe('remotely-initiated');
    // Compared as unsigned numbers, not strings.
    expect(resolveCollision('9.0.0.1', '10.0.0.1', 1, 1)).toBe('remotely-initiated');
    expect(resolveCollision('200.0.0.1', '10.0.0.1', 1, 1)).toBe('locally-initiated');
  });
  it('equal identifiers (RFC 6286): the larger AS wins', () => {
    expect(resolveCollision('10.0.0.1', '10.0.0.1', 65002, 65001)).toBe('locally-initiated');
    expect(resolveCollision('10.0.0.1', '10.0.0.1', 65001, 65002)).toBe('remotely-initiated');
  });
});

describe('OPEN validation', () => {
  it('accepts a good OPEN and negotiates the smaller hold time', () => {
    expect(validateOpen(open(), ebgp)).toEqual({ ok: true, peerAs: 65001, holdTime: 30, fourOctetAs: true });
    expect(validateOpen(open({ holdTime: 0 }), ebgp)).toMatchObject({ ok: true, holdTime: 0 });
    expect(validateOpen(open({ holdTime: 3 }), ebgp)).toMatchObject({ ok: true, holdTime: 3 });
  });
  it('version ≠ 4: Unsupported Version Number with our version in the data', () => {
    const r = validateOpen(open({ version: 3 }), ebgp);
    expect(r.ok).toBe(false);
    if (!r.ok) expect([r.error.code, r.error.subcode, hex(r.error.data)]).toEqual([2, 1, '0004']);
  });
  it('wrong AS: Bad Peer AS (capability and 2-octet field)', () => {
    const r1 = validateOpen(open({ myAs: 65009 }, { fourOctetAs: 65009 }), ebgp);
    const r2 = validateOpen(open({ myAs: 65009 }, { fourOctetAs: undefined as unknown as number }), ebgp);
    for (const r of [r1, r2]) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect([r.error.code, r.error.subcode, hex(r.error.data)]).toEqual([2, 2, 'fdf1']);
    }
  });
  it('4-octet AS: AS_TRANS in My AS with the real AS in the capability', () => {
    const exp = { ...ebgp, peerAs: 4200000001 };
    expect(validateOpen(open({ myAs: 23456 }, { fourOctetAs: 4200000001 }), exp)).toMatchObject({
      ok: true,
      peerAs: 4200000001,
    });
    // A 2-octet-only speaker cannot be AS 4200000001.
    const { fourOctetAs: _drop, ...noCap } = { ...caps, fourOctetAs: 0 };
    const r = validateOpen({ ...open({ myAs: 23456 }), capabilities: noCap }, exp);
    expect(r.ok).toBe(false);
    // AS_TRANS in the capability itself is invalid.
    expect(validateOpen(open({ myAs: 23456 }, { fourOctetAs: 23456 }), { ...ebgp, peerAs: 23456 }).ok).toBe(false);
  });
  it('hold time 1 or 2: Unacceptable Hold Time', () => {
    for (const h of [1, 2]) {
      const r = validateOpen(open({ holdTime: h }), ebgp);
      expect(r.ok).toBe(false);
      if (!r.ok) expect([r.error.code, r.error.subcode, r.error.data.length]).toEqual([2, 6, 0]);
    }
  });
  it('BGP identifier: 0.0.0.0 is bad; ours is bad for iBGP only', () => {
    const zero = validateOpen(open({ bgpId: '0.0.0.0' }), ebgp);
    expect(zero.ok ? 0 : zero.error.subcode).toBe(3);
    const ibgp = { ...ebgp, localAs: 65001 };
    const same = validateOpen(open({ bgpId: '10.0.0.1' }), ibgp);
    expect(same.ok ? 0 : same.error.subcode).toBe(3);
    expect(validateOpen(open({ bgpId: '10.0.0.1' }), ebgp).ok).toBe(true);
  });
});
