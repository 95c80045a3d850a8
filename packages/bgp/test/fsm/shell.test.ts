// The session shell driven with a manual clock, a manual connector and a scripted peer over
// in-memory connections: timers, back-off, collisions, DelayOpen, OPEN errors byte-exact.

import { describe, expect, it } from 'vitest';
import type { OpenMessage, UpdateMessage } from '../../src/wire/index.js';
import { DEFAULT_CODEC_OPTIONS, encodeMessage, encodeShutdownCommunication, endOfRib } from '../../src/wire/index.js';
import { BASE, FakePeer, flush, hex, notificationBytes, peerOpen, Rig } from './harness.js';

const UPDATE: UpdateMessage = {
  type: 2,
  withdrawn: [],
  attributes: { origin: 0, asPath: [{ type: 2, asns: [65002] }], nextHop: '192.0.2.2' },
  nlri: [{ prefix: { family: 'ipv4-unicast', addr: 0x0af40000, length: 26 } }],
};

describe('session shell: establishment', () => {
  it('active peer: Connect → OpenSent → OpenConfirm → Established, OPEN as configured', async () => {
    const rig = new Rig();
    const peer = await rig.establish();
    expect(rig.states()).toEqual(['Connect', 'OpenSent', 'OpenConfirm', 'Established']);
    const open = peer.messages[0] as OpenMessage;
    expect(open).toMatchObject({ type: 1, version: 4, myAs: 65001, holdTime: 90, bgpId: '10.0.0.1' });
    expect(open.capabilities.fourOctetAs).toBe(65001);
    expect(peer.types()).toEqual([1, 4]);
    const est = rig.events.find((e) => e.type === 'established');
    expect(est?.type === 'established' && est.negotiated).toMatchObject({
      peerAs: 65002,
      peerId: '10.0.0.2',
      holdTime: 90,
      keepaliveTime: 30,
      families: ['ipv4-unicast'],
      routeRefresh: true,
    });
    // the connector was asked for eBGP single-hop TTL
    expect(rig.connector.attempts[0]?.options).toMatchObject({ remoteAddress: '192.0.2.2', remotePort: 179, ttl: 1 });
  });

  it('passive peer: never connects, accepts the peer, establishes', async () => {
    const rig = new Rig({ passive: true });
    rig.session.start();
    await rig.advance(600_000);
    expect(rig.connector.attempts).toHaveLength(0);
    expect(rig.session.state).toBe('Active');
    const peer = await rig.incoming();
    expect(peer.types()).toEqual([1]);
    peer.send(peerOpen());
    peer.send({ type: 4 });
    await flush();
    expect(rig.session.state).toBe('Established');
  });

  it('an incoming connection in Idle is refused at once', async () => {
    const rig = new Rig();
    const peer = await rig.incoming();
    expect(peer.closed).toBe(true);
    expect(peer.messages).toEqual([]);
    expect(rig.session.state).toBe('Idle');
  });

  it('delivers UPDATEs, End-of-RIB and route refresh requests; ROUTE-REFRESH and EoR go out', async () => {
    const rig = new Rig();
    const peer = await rig.establish();
    peer.send(UPDATE);
    peer.send(endOfRib('ipv4-unicast'));
    peer.send({ type: 5, family: 'ipv4-unicast', subtype: 0 });
    await flush();
    const got = rig.events.filter((e) => ['update', 'endOfRib', 'routeRefresh'].includes(e.type));
    expect(got.map((e) => e.type)).toEqual(['update', 'endOfRib', 'routeRefresh']);
    const u = got[0];
    expect(u?.type === 'update' && u.update.kind === 'message' && u.update.message).toMatchObject({
      nlri: UPDATE.nlri,
    });
    await rig.session.sendEndOfRib('ipv4-unicast');
    rig.session.sendRouteRefresh('ipv4-unicast');
    await flush();
    expect(peer.messages.slice(-2)).toMatchObject([endOfRib('ipv4-unicast'), { type: 5, family: 'ipv4-unicast' }]);
  });

  it('send() refuses when not Established', async () => {
    const rig = new Rig();
    await expect(rig.session.send(UPDATE)).rejects.toThrow(/not Established/);
  });
});

describe('session shell: timers', () => {
  it('hold timer expiry sends Hold Timer Expired, goes Idle, restarts after the idle hold time', async () => {
    const rig = new Rig();
    const peer = await rig.establish(peerOpen({ holdTime: 30 }));
    // keepalives every 10 s keep *our* side alive; the peer sends nothing
    await rig.advance(29_999);
    expect(rig.session.state).toBe('Established');
    await rig.advance(1);
    expect(rig.session.state).toBe('Idle');
    expect(hex(peer.frames.at(-1))).toBe(notificationBytes(4, 0));
    expect(peer.closed).toBe(true);
    expect(rig.session.lastError).toMatchObject({ kind: 'notification-sent', code: 4, subcode: 0 });
    // idle hold: attempt 1 → 5 s (random 1 → no jitter reduction)
    expect(rig.clock.pending()).toEqual([5000]);
    await rig.advance(5000);
    expect(rig.session.state).toBe('Connect');
    expect(rig.connector.attempts).toHaveLength(2);
  });

  it('hold timer expires exactly hold time after the last message, however many restarts came before', async () => {
    const rig = new Rig({ fastUpdates: true });
    const peer = await rig.establish(peerOpen({ holdTime: 30 }));
    for (let i = 0; i < 50; i++) {
      await rig.advance(700);
      peer.send(i % 3 ? UPDATE : { type: 4 });
      await flush();
    }
    await rig.advance(29_999);
    expect(rig.session.state).toBe('Established');
    await rig.advance(1);
    expect(rig.session.state).toBe('Idle');
    expect(hex(peer.frames.at(-1))).toBe(notificationBytes(4, 0));
  });

  it('hold timer is restarted by KEEPALIVE and UPDATE', async () => {
    const rig = new Rig();
    const peer = await rig.establish(peerOpen({ holdTime: 30 }));
    for (let i = 0; i < 5; i++) {
      await rig.advance(20_000);
      peer.send(i % 2 ? { type: 4 } : UPDATE);
      await flush();
    }
    expect(rig.session.state).toBe('Established');
  });

  it('keepalive cadence: one third of the negotiated hold time; OpenSent uses the large hold time', async () => {
    const rig = new Rig({ holdTime: 60 });
    rig.session.start();
    const peer = await rig.acceptOutgoing();
    expect(rig.clock.pending()).toEqual([240_000]); // OpenSent: hold timer at 4 minutes
    peer.send(peerOpen({ holdTime: 90 }));
    peer.send({ type: 4 });
    await flush();
    const before = peer.messages.length;
    for (let i = 0; i < 6; i++) {
      await rig.advance(20_000);
      peer.send({ type: 4 });
    }
    await flush();
    // negotiated 60 → keepalive every 20 s: 6 more keepalives in 120 s
    expect(peer.messages.slice(before).map((m) => m.type)).toEqual([4, 4, 4, 4, 4, 4]);
  });

  it('hold time 0: no keepalives, no hold timer', async () => {
    const rig = new Rig();
    const peer = await rig.establish(peerOpen({ holdTime: 0 }));
    const n = peer.messages.length;
    await rig.advance(3_600_000);
    expect(rig.session.state).toBe('Established');
    expect(peer.messages.length).toBe(n);
  });

  it('connect retry backs off exponentially with jitter, capped', async () => {
    const rig = new Rig({}, () => 0.5);
    rig.session.start();
    await flush();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      rig.connector.pending?.refuse();
      await flush();
      expect(rig.session.state).toBe('Active');
      const [d] = rig.clock.pending();
      delays.push(d ?? -1);
      await rig.advance(d ?? 0);
      expect(rig.session.state).toBe('Connect');
    }
    // base 5 s doubling to 120 s, times 0.875 (jitter with random 0.5)
    expect(delays).toEqual([4375, 8750, 17500, 35000, 70000, 105000, 105000]);
    expect(rig.connector.attempts).toHaveLength(8);
    expect(rig.session.lastError).toMatchObject({ kind: 'connection' });
  });

  it('a SYN without answer: ConnectRetryTimer_Expires aborts and retries in Connect', async () => {
    const rig = new Rig();
    rig.session.start();
    await rig.advance(5000);
    expect(rig.connector.attempts).toHaveLength(2);
    expect(rig.connector.attempts[0]?.signal.aborted).toBe(true);
    expect(rig.session.state).toBe('Connect');
  });
});

describe('session shell: DelayOpen', () => {
  it('waits DelayOpenTime before sending OPEN', async () => {
    const rig = new Rig({ delayOpen: 5 });
    rig.session.start();
    const peer = await rig.acceptOutgoing();
    expect(peer.messages).toEqual([]);
    expect(rig.session.state).toBe('Connect');
    await rig.advance(5000);
    expect(peer.types()).toEqual([1]);
    expect(rig.session.state).toBe('OpenSent');
  });

  it("the peer's OPEN during DelayOpen: OPEN and KEEPALIVE at once, OpenConfirm", async () => {
    const rig = new Rig({ delayOpen: 5 });
    rig.session.start();
    const peer = await rig.acceptOutgoing();
    peer.send(peerOpen());
    await flush();
    expect(peer.types()).toEqual([1, 4]);
    expect(rig.session.state).toBe('OpenConfirm');
    peer.send({ type: 4 });
    await flush();
    expect(rig.session.state).toBe('Established');
  });
});

describe('session shell: bad OPENs (NOTIFICATION byte-exact)', () => {
  const cases: [string, OpenMessage, string][] = [
    ['version 3', peerOpen({ version: 3 }), notificationBytes(2, 1, Uint8Array.of(0, 4))],
    ['wrong AS', peerOpen({}, 65009), notificationBytes(2, 2, Uint8Array.of(0xfd, 0xf1))],
    ['hold time 2', peerOpen({ holdTime: 2 }), notificationBytes(2, 6)],
    ['BGP identifier 0.0.0.0', peerOpen({ bgpId: '0.0.0.0' }), notificationBytes(2, 3)],
  ];
  for (const [name, open, expected] of cases) {
    it(name, async () => {
      const rig = new Rig();
      rig.session.start();
      const peer = await rig.acceptOutgoing();
      peer.send(open);
      await flush();
      expect(rig.session.state).toBe('Idle');
      expect(hex(peer.frames.at(-1))).toBe(expected);
      expect(peer.closed).toBe(true);
    });
  }

  it('iBGP peer with our own identifier: Bad BGP Identifier', async () => {
    const rig = new Rig({ peerAs: 65001 });
    rig.session.start();
    const peer = await rig.acceptOutgoing();
    peer.send(peerOpen({}, 65001, '10.0.0.1'));
    await flush();
    expect(hex(peer.frames.at(-1))).toBe(notificationBytes(2, 3));
  });

  it('a broken header: Message Header Error / Connection Not Synchronized', async () => {
    const rig = new Rig();
    rig.session.start();
    const peer = await rig.acceptOutgoing();
    const bad = new Uint8Array(19).fill(0xff);
    bad[0] = 0;
    bad[17] = 19;
    bad[18] = 4;
    peer.sendRaw(bad);
    await flush();
    expect(rig.session.state).toBe('Idle');
    expect(peer.messages.at(-1)).toMatchObject({ type: 3, code: 1, subcode: 1 });
  });

  it('an UPDATE in OpenConfirm: FSM Error, unexpected message in OpenConfirm', async () => {
    const rig = new Rig();
    rig.session.start();
    const peer = await rig.acceptOutgoing();
    peer.send(peerOpen());
    peer.send(UPDATE);
    await flush();
    expect(hex(peer.frames.at(-1))).toBe(notificationBytes(5, 2));
  });
});

describe('session shell: stop and notifications', () => {
  it('stop(reason) sends Cease/Administrative Shutdown with the shutdown communication', async () => {
    const rig = new Rig();
    const peer = await rig.establish();
    await rig.session.stop('maintenance until 14:00');
    await flush();
    expect(hex(peer.frames.at(-1))).toBe(
      notificationBytes(6, 2, encodeShutdownCommunication('maintenance until 14:00')),
    );
    expect(rig.session.state).toBe('Idle');
    expect(rig.clock.pending()).toEqual([]); // no automatic restart after a manual stop
    const down = rig.events.find((e) => e.type === 'down');
    expect(down).toMatchObject({ type: 'down', retainStale: false });
  });

  it('a received NOTIFICATION: Idle with the error, then automatic restart after idle hold', async () => {
    const rig = new Rig();
    const peer = await rig.establish();
    peer.send({ type: 3, code: 6, subcode: 2, data: encodeShutdownCommunication('bye') });
    await flush();
    expect(rig.session.state).toBe('Idle');
    const st = rig.events.filter((e) => e.type === 'state').at(-1);
    expect(st).toMatchObject({
      to: 'Idle',
      lastError: { kind: 'notification-received', code: 6, subcode: 2, shutdownMessage: 'bye' },
    });
    expect(rig.clock.pending()).toEqual([5000]);
  });

  it('an UPDATE error in Established sends its NOTIFICATION', async () => {
    const rig = new Rig();
    const peer = await rig.establish();
    // UPDATE whose withdrawn-routes length runs past the message
    peer.sendRaw(Uint8Array.from([...new Uint8Array(16).fill(0xff), 0, 23, 2, 0, 200, 0, 0]));
    await flush();
    expect(rig.session.state).toBe('Idle');
    expect(peer.messages.at(-1)).toMatchObject({ type: 3, code: 3 });
  });
});

describe('session shell: collisions (§6.8)', () => {
  async function collide(localId: string, peerId: string) {
    const rig = new Rig({ routerId: localId });
    rig.session.start();
    const out = await rig.acceptOutgoing(); // we initiated this one
    const inc = await rig.incoming(); // the peer initiated this one
    expect(out.types()).toEqual([1]);
    expect(inc.types()).toEqual([1]);
    out.send(peerOpen({}, 65002, peerId));
    await flush();
    inc.send(peerOpen({}, 65002, peerId));
    await flush();
    return { rig, out, inc };
  }

  it('peer has the higher identifier: our connection is dumped with Cease/Connection Collision Resolution', async () => {
    const { rig, out, inc } = await collide('10.0.0.1', '10.0.0.2');
    expect(hex(out.frames.at(-1))).toBe(notificationBytes(6, 7));
    expect(out.closed).toBe(true);
    expect(inc.closed).toBe(false);
    expect(rig.session.state).toBe('OpenConfirm');
    inc.send({ type: 4 });
    await flush();
    expect(rig.session.state).toBe('Established');
    expect(rig.states()).toEqual(['Connect', 'OpenSent', 'OpenConfirm', 'Established']);
    const est = rig.events.find((e) => e.type === 'established');
    expect(est?.type === 'established' && est.negotiated.remotePort).toBe(inc.conn.localPort);
  });

  it('we have the higher identifier: the peer-initiated connection is dumped', async () => {
    const { rig, out, inc } = await collide('10.0.0.9', '10.0.0.2');
    expect(hex(inc.frames.at(-1))).toBe(notificationBytes(6, 7));
    expect(inc.closed).toBe(true);
    expect(out.closed).toBe(false);
    out.send({ type: 4 });
    await flush();
    expect(rig.session.state).toBe('Established');
  });

  it('OPEN first on the second connection: the other is resolved the same way', async () => {
    const rig = new Rig({ routerId: '10.0.0.1' });
    rig.session.start();
    const out = await rig.acceptOutgoing();
    const inc = await rig.incoming();
    inc.send(peerOpen());
    await flush();
    out.send(peerOpen());
    await flush();
    // peer 10.0.0.2 > 10.0.0.1: keep the peer-initiated connection
    expect(hex(out.frames.at(-1))).toBe(notificationBytes(6, 7));
    expect(inc.closed).toBe(false);
    inc.send({ type: 4 });
    await flush();
    expect(rig.session.state).toBe('Established');
  });

  it('the second connection reaching Established first takes over; the first is dumped', async () => {
    const rig = new Rig({ routerId: '10.0.0.9' });
    rig.session.start();
    const out = await rig.acceptOutgoing();
    const inc = await rig.incoming();
    inc.send(peerOpen());
    inc.send({ type: 4 });
    await flush();
    expect(rig.session.state).toBe('Established');
    expect(hex(out.frames.at(-1))).toBe(notificationBytes(6, 7));
    expect(out.closed).toBe(true);
    expect(rig.states()).toEqual(['Connect', 'OpenSent', 'Established']);
    expect(rig.events.filter((e) => e.type === 'established')).toHaveLength(1);
    inc.send({ type: 4 });
    await rig.advance(60_000);
    expect(rig.session.state).toBe('Established');
  });

  it('a new connection while Established is dumped at its OPEN (CollisionDetectEstablishedState off)', async () => {
    const rig = new Rig();
    const first = await rig.establish();
    const second = await rig.incoming();
    second.send(peerOpen());
    await flush();
    expect(hex(second.frames.at(-1))).toBe(notificationBytes(6, 7));
    expect(first.closed).toBe(false);
    expect(rig.session.state).toBe('Established');
  });
});

describe('session shell: graceful restart', () => {
  const gr = { restartTime: 120, restarting: true, forwarding: ['ipv4-unicast' as const] };

  it('advertises R and F bits; exposes the peer capability; retains stale routes on TCP loss', async () => {
    const rig = new Rig({ gracefulRestart: gr });
    const peerCaps = {
      gracefulRestart: {
        restarting: true,
        notification: false,
        restartTime: 90,
        families: [{ family: 'ipv4-unicast' as const, forwarding: true }],
      },
    };
    const open = peerOpen();
    const peer = await rig.establish({ ...open, capabilities: { ...open.capabilities, ...peerCaps } });
    const ours = peer.messages[0] as OpenMessage;
    expect(ours.capabilities.gracefulRestart).toEqual({
      restarting: true,
      notification: false,
      restartTime: 120,
      families: [{ family: 'ipv4-unicast', forwarding: true }],
    });
    expect(rig.session.negotiated?.peerGracefulRestart).toEqual(peerCaps.gracefulRestart);
    peer.conn.fail(new Error('ECONNRESET'));
    await flush();
    expect(rig.events.find((e) => e.type === 'down')).toMatchObject({ retainStale: true });
  });

  it('a restarted peer reconnecting while Established replaces the old connection', async () => {
    const rig = new Rig({ gracefulRestart: gr });
    const open = peerOpen();
    const grOpen = {
      ...open,
      capabilities: {
        ...open.capabilities,
        gracefulRestart: { restarting: true, notification: false, restartTime: 90, families: [] },
      },
    };
    const old = await rig.establish(grOpen);
    const fresh = await rig.incoming();
    fresh.send(grOpen);
    await flush();
    expect(old.closed).toBe(true);
    expect(rig.session.state).toBe('OpenConfirm');
    expect(rig.events.find((e) => e.type === 'down')).toMatchObject({ retainStale: true });
    fresh.send({ type: 4 });
    await flush();
    expect(rig.session.state).toBe('Established');
  });
});

describe('session shell: back-pressure', () => {
  it('send() waits for drain when the peer does not read', async () => {
    const rig = new Rig();
    rig.session.start();
    const attempt = rig.connector.pending!;
    const peer = new FakePeer(attempt.accept(4096));
    await flush();
    peer.send(peerOpen());
    peer.send({ type: 4 });
    await flush();
    expect(rig.session.state).toBe('Established');
    peer.conn.pause();
    const many = Array.from({ length: 500 }, () => UPDATE);
    let done = false;
    const p = rig.session.send(many).then(() => {
      done = true;
    });
    await flush();
    expect(done).toBe(false);
    const written = rig.events.length; // unchanged: nothing happened to the session
    expect(written).toBeGreaterThan(0);
    peer.conn.resume();
    await p;
    await flush();
    expect(done).toBe(true);
    expect(peer.messages.filter((m) => m.type === 2)).toHaveLength(500);
  });
});

describe('session config', () => {
  it('refuses bad configuration with a message naming the field', () => {
    expect(() => new Rig({ holdTime: 2 })).toThrow(/holdTime 2/);
    expect(() => new Rig({ routerId: '0.0.0.0' })).toThrow(/routerId/);
    expect(() => new Rig({ ttlSecurityHops: 1, multihop: 2 })).toThrow(/exclude/);
  });

  it('GTSM asks the connector for TTL 255 and minimum TTL 256 − hops', async () => {
    const rig = new Rig({ ttlSecurityHops: 1 });
    rig.session.start();
    expect(rig.connector.pending?.options).toMatchObject({ ttl: 255, minTtl: 255 });
    expect(BASE.peerAs).not.toBe(BASE.localAs);
  });
});

describe('session shell: fast UPDATEs and pre-encoded frames', () => {
  const TAW: UpdateMessage = {
    // ORIGIN with a bad value: RFC 7606 treat-as-withdraw
    type: 2,
    withdrawn: [],
    attributes: { origin: 0, asPath: [{ type: 2, asns: [65002] }], nextHop: '192.0.2.2' },
    nlri: [{ prefix: { family: 'ipv4-unicast', addr: 0x0af40000, length: 26 } }],
  };

  it('delivers fastUpdate events (packed IPv4 keys), End-of-RIB, treat-as-withdraw; no update events', async () => {
    const rig = new Rig({ fastUpdates: true });
    const peer = await rig.establish();
    peer.send(UPDATE);
    peer.send({ ...UPDATE, withdrawn: UPDATE.nlri, nlri: [], attributes: {} });
    peer.send(endOfRib('ipv4-unicast'));
    // the same UPDATE with ORIGIN 7 (bytes patched): treat-as-withdraw, session stays up
    const bad = encodeMessage(TAW, peer.codec);
    const at = Buffer.from(bad).indexOf(Buffer.from([0x40, 1, 1, 0]));
    bad[at + 3] = 7;
    peer.sendRaw(bad);
    await flush();
    const got = rig.events.filter((e) => ['update', 'fastUpdate', 'endOfRib'].includes(e.type));
    expect(got.map((e) => e.type)).toEqual(['fastUpdate', 'fastUpdate', 'endOfRib', 'fastUpdate']);
    const [a, w, , t] = got;
    expect(a?.type === 'fastUpdate' && a.update).toMatchObject({
      kind: 'update',
      nlri: [0x0af40000 * 64 + 26],
      withdrawn: [],
      attributes: UPDATE.attributes,
    });
    expect(w?.type === 'fastUpdate' && w.update).toMatchObject({
      kind: 'update',
      nlri: [],
      withdrawn: [0x0af40000 * 64 + 26],
    });
    expect(t?.type === 'fastUpdate' && t.update).toMatchObject({
      kind: 'treat-as-withdraw',
      nlri: [0x0af40000 * 64 + 26],
    });
    expect(rig.session.state).toBe('Established');
  });

  it('a malformed UPDATE in fast mode sends the same NOTIFICATION as the full decoder', async () => {
    for (const fastUpdates of [false, true]) {
      const rig = new Rig({ fastUpdates });
      const peer = await rig.establish();
      // mandatory-attribute flags wrong (ORIGIN marked optional): Attribute Flags Error 3/4
      const bad = encodeMessage(UPDATE, peer.codec);
      const at = Buffer.from(bad).indexOf(Buffer.from([0x40, 1, 1, 0]));
      bad[at] = 0xc0;
      peer.sendRaw(bad);
      // withdrawn-routes length past the end: Malformed Attribute List 3/1
      peer.sendRaw(Uint8Array.from([...new Uint8Array(16).fill(0xff), 0, 23, 2, 0, 200, 0, 0]));
      await flush();
      const n = peer.messages.find((m) => m.type === 3);
      expect({ fastUpdates, n }).toMatchObject({ fastUpdates, n: { type: 3, code: 3 } });
      expect(rig.session.state).toBe('Idle');
    }
  });

  it('fast UPDATEs restart the hold timer', async () => {
    const rig = new Rig({ fastUpdates: true });
    const peer = await rig.establish(peerOpen({ holdTime: 30 }));
    for (let i = 0; i < 5; i++) {
      await rig.advance(20_000);
      peer.send(UPDATE);
      await flush();
    }
    expect(rig.session.state).toBe('Established');
    await rig.advance(30_000);
    expect(rig.session.state).toBe('Idle');
  });

  it('sendFrames writes the frames in order and restarts the keepalive timer', async () => {
    const rig = new Rig();
    const peer = await rig.establish(peerOpen({ holdTime: 30 }));
    const keepalives = () => peer.messages.filter((m) => m.type === 4).length;
    await rig.advance(9_000);
    const k0 = keepalives();
    const frames = [encodeMessage(UPDATE, peer.codec), encodeMessage(endOfRib('ipv4-unicast'), peer.codec)];
    await rig.session.sendFrames(frames);
    await flush();
    expect(peer.messages.slice(-2)).toMatchObject([{ type: 2, nlri: UPDATE.nlri }, endOfRib('ipv4-unicast')]);
    // the keepalive due at 10 s was pushed to 9 + 10 s
    await rig.advance(9_999);
    expect(keepalives()).toBe(k0);
    await rig.advance(1);
    expect(keepalives()).toBe(k0 + 1);
    expect(() => rig.session.sendFrames([encodeMessage({ type: 4 }, peer.codec)])).toThrow(/whole UPDATE/);
    // several UPDATEs back to back in one buffer go out as they are; a cut one is refused
    const two = Buffer.concat([frames[0]!, frames[0]!]);
    expect(() => rig.session.sendFrames([two.subarray(0, two.length - 1)])).toThrow(/whole UPDATE/);
    await rig.session.sendFrames([two]);
    await flush();
    expect(peer.messages.slice(-2)).toMatchObject([
      { type: 2, nlri: UPDATE.nlri },
      { type: 2, nlri: UPDATE.nlri },
    ]);
  });

  it('sendFrames refuses when not Established, waits for drain, and stops when the session goes down', async () => {
    const idle = new Rig();
    await expect(idle.session.sendFrames([encodeMessage(UPDATE, DEFAULT_CODEC_OPTIONS)])).rejects.toThrow(
      /not Established/,
    );
    const rig = new Rig();
    rig.session.start();
    const peer = new FakePeer(rig.connector.pending!.accept(4096));
    await flush();
    peer.send(peerOpen());
    peer.send({ type: 4 });
    await flush();
    peer.codec = { ...DEFAULT_CODEC_OPTIONS, fourOctetAs: true };
    const frame = encodeMessage(UPDATE, peer.codec);
    peer.conn.pause();
    let done = false;
    const p = rig.session.sendFrames(Array.from({ length: 500 }, () => frame)).then(() => {
      done = true;
    });
    await flush();
    expect(done).toBe(false);
    peer.conn.resume();
    await p;
    expect(peer.messages.filter((m) => m.type === 2)).toHaveLength(500);
    // blocked again, then the session drops: the rest is never written
    peer.conn.pause();
    const q = rig.session.sendFrames(Array.from({ length: 500 }, () => frame));
    await flush();
    rig.session.automaticStop(2);
    peer.conn.resume();
    await expect(q).rejects.toThrow(/not Established/);
  });
});
