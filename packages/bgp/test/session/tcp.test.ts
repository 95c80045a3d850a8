// Two Sessions over real sockets on loopback, each behind its own BgpListener.

import net from 'node:net';
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { Session, type SessionEvent } from '../../src/session/index.js';
import { BgpListener } from '../../src/transport/index.js';
import type { UpdateMessage } from '../../src/wire/index.js';

const A = '127.0.0.1';
const B = '127.0.0.3';

const update = (asn: number, nextHop: string, third: number): UpdateMessage => ({
  type: 2,
  withdrawn: [],
  attributes: { origin: 0, asPath: [{ type: 2, asns: [asn] }], nextHop },
  nlri: [{ prefix: { family: 'ipv4-unicast', addr: (10 << 24) | (244 << 16) | (third << 8), length: 26 } }],
});

function next<T extends SessionEvent['type']>(s: Session, type: T) {
  return firstValueFrom(s.events$.pipe(filter((e): e is Extract<SessionEvent, { type: T }> => e.type === type)), {
    defaultValue: undefined,
  }).then((v) => {
    if (!v) throw new Error(`session ${s.peerAddress} completed before a ${type} event`);
    return v;
  }) as Promise<Extract<SessionEvent, { type: T }>>;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref()),
  ]);
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function pair(passiveA = false) {
  const la = new BgpListener({ address: A, port: 0 });
  const lb = new BgpListener({ address: B, port: 0 });
  const pa = (await la.listen()).port;
  const pb = (await lb.listen()).port;
  cleanups.push(
    () => la.close(),
    () => lb.close(),
  );
  const a = new Session({
    localAs: 65001,
    routerId: '10.0.0.1',
    peerAddress: B,
    peerPort: pb,
    peerAs: 65002,
    localAddress: A,
    holdTime: 9,
    passive: passiveA,
  });
  const b = new Session({
    localAs: 65002,
    routerId: '10.0.0.2',
    peerAddress: A,
    peerPort: pa,
    peerAs: 65001,
    localAddress: B,
    holdTime: 9,
  });
  la.add(a);
  lb.add(b);
  cleanups.push(
    () => a.close(),
    () => b.close(),
  );
  return { a, b, la, lb };
}

describe('Session over loopback TCP', () => {
  it('two sessions establish, exchange UPDATEs, and an admin shutdown reaches the other side with its text', async () => {
    const { a, b } = await pair();
    const upA = next(a, 'established');
    const upB = next(b, 'established');
    a.start();
    b.start();
    const [ea, eb] = await withTimeout(Promise.all([upA, upB]), 20_000, 'both sessions Established');
    expect(ea.negotiated).toMatchObject({ peerAs: 65002, peerId: '10.0.0.2', holdTime: 9, keepaliveTime: 3 });
    expect(eb.negotiated).toMatchObject({ peerAs: 65001, peerId: '10.0.0.1' });
    expect(eb.negotiated.codec.fourOctetAs).toBe(true);

    const gotB = next(b, 'update');
    await a.send(update(65001, A, 1));
    const ub = await withTimeout(gotB, 10_000, 'UPDATE at b');
    expect(ub.update.kind === 'message' && ub.update.message).toMatchObject({
      nlri: [{ prefix: { family: 'ipv4-unicast', addr: (10 << 24) | (244 << 16) | (1 << 8), length: 26 } }],
      attributes: { nextHop: A, asPath: [{ type: 2, asns: [65001] }] },
    });
    const gotA = next(a, 'update');
    await b.send([update(65002, B, 2), update(65002, B, 3)]);
    const ua = await withTimeout(gotA, 10_000, 'UPDATE at a');
    expect(ua.update.kind).toBe('message');
    const eorB = next(b, 'endOfRib');
    await a.sendEndOfRib('ipv4-unicast');
    expect((await withTimeout(eorB, 10_000, 'End-of-RIB at b')).family).toBe('ipv4-unicast');

    const downB = next(b, 'state');
    await a.stop('maintenance window 42');
    const st = await withTimeout(downB, 10_000, 'b going down');
    expect(st.to).toBe('Idle');
    expect(st.lastError).toMatchObject({
      kind: 'notification-received',
      code: 6,
      subcode: 2,
      shutdownMessage: 'maintenance window 42',
    });
    expect(a.state).toBe('Idle');
    expect(a.lastError).toMatchObject({ kind: 'notification-sent', code: 6, subcode: 2 });
  });

  it('refuses a connection from an address that is not a configured neighbor', async () => {
    const { lb } = await pair();
    const rejected = firstValueFrom(lb.rejected$);
    const outcome = await withTimeout(
      new Promise<string>((resolve) => {
        const s = net.connect({ host: B, port: lb.port, localAddress: '127.0.0.2' });
        const got: Buffer[] = [];
        s.on('data', (d) => got.push(d));
        s.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
        s.on('close', () => resolve(`closed after ${Buffer.concat(got).length} bytes`));
      }),
      10_000,
      'the unconfigured connection to be closed',
    );
    expect(outcome).toMatch(/ECONNRESET|closed after 0 bytes/);
    expect(await rejected).toMatchObject({ remoteAddress: '127.0.0.2', reason: 'not a configured neighbor' });
  });

  it('a passive session never connects and accepts its configured peer through the listener', async () => {
    const { a, b } = await pair(true);
    const upA = next(a, 'established');
    const upB = next(b, 'established');
    a.start();
    b.start();
    await withTimeout(Promise.all([upA, upB]), 20_000, 'both Established');
    // b initiated: its local port is ephemeral, a's is the listener's
    expect(a.negotiated?.remoteAddress).toBe(B);
    expect(b.negotiated?.remoteAddress).toBe(A);
    expect(b.negotiated?.remotePort).toBe(a.negotiated?.localPort);
    expect(a.negotiated?.localPort).not.toBe(b.negotiated?.localPort);
  });
});
