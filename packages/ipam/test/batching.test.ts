// Group-committed block writes: concurrent allocations and releases of one process share block
// writes, and every guarantee of the one-at-a-time path still holds under injected faults.
import { describe, expect, it } from 'vitest';
import {
  BlockAllocator,
  type Collection,
  ConflictError,
  DEFAULT_POOL,
  type IPAMBlockSpec,
  type IpamStore,
  kubernetesIpam,
  MemoryStore,
  NoFreeAddressError,
  ordinalsForHandle,
  TransientApiError,
  type Versioned,
} from '../src/index.js';
import { req, startEnv } from './harness.js';

/**
 * A MemoryStore whose block updates can be refused with a 409 before they apply, or applied
 * with the answer lost (a transient error after the write: the caller cannot tell it happened).
 */
class FaultyStore implements IpamStore {
  readonly inner = new MemoryStore();
  readonly pools = this.inner.pools;
  readonly affinities = this.inner.affinities;
  readonly handles = this.inner.handles;
  readonly configs = this.inner.configs;
  readonly blocks: Collection<IPAMBlockSpec>;
  conflicts = 0;
  lostAnswers = 0;
  injectedConflicts = 0;
  injectedLost = 0;
  constructor() {
    const b = this.inner.blocks;
    this.blocks = {
      kind: b.kind,
      get: (n) => b.get(n),
      list: () => b.list(),
      create: (n, s) => b.create(n, s),
      delete: (n, v) => b.delete(n, v),
      update: async (n, s, v): Promise<Versioned<IPAMBlockSpec>> => {
        if (this.conflicts > 0) {
          this.conflicts--;
          this.injectedConflicts++;
          throw new ConflictError(b.kind, n);
        }
        const out = await b.update(n, s, v);
        if (this.lostAnswers > 0) {
          this.lostAnswers--;
          this.injectedLost++;
          throw new TransientApiError('injected: the write was applied but its answer was lost', 500);
        }
        return out;
      },
    };
  }
}

async function consistent(ipam: BlockAllocator): Promise<{ allocated: number; addresses: string[] }> {
  // every allocated ordinal belongs to a handle object that counts it in that block, and back
  const [blocks, handles] = await Promise.all([ipam.store.blocks.list(), ipam.store.handles.list()]);
  let allocated = 0;
  const addresses: string[] = [];
  const counted = new Map<string, number>();
  for (const b of blocks) {
    const inUse = b.spec.allocations.filter((a) => a !== null).length;
    expect(inUse + b.spec.unallocated.length, b.name).toBe(b.spec.allocations.length);
    expect(new Set(b.spec.unallocated).size, `${b.name} free list has duplicates`).toBe(b.spec.unallocated.length);
    allocated += inUse;
    for (const h of handles) {
      const n = ordinalsForHandle(b.spec, h.spec.handleID).length;
      if (n > 0) counted.set(`${h.spec.handleID}@${b.spec.cidr}`, n);
    }
  }
  for (const h of handles) {
    for (const [cidr, n] of Object.entries(h.spec.block)) expect(counted.get(`${h.spec.handleID}@${cidr}`)).toBe(n);
  }
  expect([...counted.values()].reduce((a, b) => a + b, 0)).toBe(allocated);
  for (const s of await ipam.handles()) addresses.push(...s.addresses);
  return { allocated, addresses };
}

describe('BlockAllocator group commit (in memory)', () => {
  it('40 pods of one node at once: 40 distinct addresses in far fewer block writes', async () => {
    const store = new MemoryStore();
    const ipam = new BlockAllocator(store);
    await ipam.createPool(DEFAULT_POOL);
    await ipam.allocate(req('first', 'n1')); // the node's block exists
    const before = ipam.blockWriteStats;
    const all = await Promise.all(Array.from({ length: 40 }, (_, i) => ipam.allocate(req(`p${i}`, 'n1'))));
    const addrs = all.map((a) => a.addresses[0]?.address);
    expect(new Set(addrs).size).toBe(40);
    const stats = ipam.blockWriteStats;
    expect(stats.changes - before.changes).toBe(40);
    expect(stats.writes - before.writes).toBeLessThan(10);
    expect(stats.largestBatch).toBeGreaterThan(5);
    const { allocated, addresses } = await consistent(ipam);
    expect(allocated).toBe(41);
    expect(new Set(addresses).size).toBe(41);
    // releases are group-committed too
    const w = ipam.blockWriteStats.writes;
    const freed = await Promise.all(Array.from({ length: 40 }, (_, i) => ipam.releaseByHandle(`p${i}`)));
    expect(freed).toEqual(Array(40).fill(1));
    expect(ipam.blockWriteStats.writes - w).toBeLessThan(10);
    expect((await consistent(ipam)).allocated).toBe(1);
  });

  it('the same handles asked for twice at once get the same address (idempotent per handle)', async () => {
    const ipam = new BlockAllocator(new MemoryStore());
    await ipam.createPool(DEFAULT_POOL);
    const reqs = Array.from({ length: 20 }, (_, i) => req(`h${i}`, 'n1'));
    const outcomes = await ipam.allocateMany([...reqs, ...reqs, ...reqs.slice(0, 5)]);
    const addr = outcomes.map((o) => (o.ok ? o.allocation.addresses.map((a) => a.address).join() : o.error.message));
    for (let i = 0; i < 20; i++) expect(addr[i + 20], `h${i}`).toBe(addr[i]);
    for (let i = 0; i < 5; i++) expect(addr[i + 40], `h${i}`).toBe(addr[i]);
    expect(new Set(addr).size).toBe(20);
    expect((await consistent(ipam)).allocated).toBe(20);
  });

  it('409s and lost answers on block writes: no address twice, none taken twice for a handle, none leaked', async () => {
    const store = new FaultyStore();
    const ipam = new BlockAllocator(store, { retry: { maxAttempts: 40, baseDelayMs: 1, maxDelayMs: 20 } });
    await ipam.createPool(DEFAULT_POOL);
    await ipam.allocate(req('first', 'n1'));
    const outcomes = [];
    // five bursts of ten pods on two nodes, each burst's first writes refused (409) or their answer lost
    for (let w = 0; w < 5; w++) {
      store.conflicts = 2;
      store.lostAnswers = 1;
      outcomes.push(
        ...(await ipam.allocateMany(Array.from({ length: 10 }, (_, i) => req(`p${w * 10 + i}`, `n${i % 2}`)))),
      );
      expect(store.injectedConflicts).toBe(2 * (w + 1));
      expect(store.injectedLost).toBe(w + 1);
    }
    for (const o of outcomes) expect(o.ok, o.ok ? '' : o.error.message).toBe(true);
    const addrs = outcomes.flatMap((o) => (o.ok ? o.allocation.addresses.map((a) => a.address) : []));
    expect(addrs).toHaveLength(50);
    expect(new Set(addrs).size).toBe(50);
    const { allocated } = await consistent(ipam);
    // a lost answer is counted as ours on the re-read, never allocated again
    expect(allocated).toBe(51);
    store.conflicts = 3;
    store.lostAnswers = 1;
    const freed = await Promise.all(Array.from({ length: 50 }, (_, i) => ipam.releaseByHandle(`p${i}`)));
    expect(store.injectedLost).toBe(6);
    // a release whose answer was lost finds its addresses already free on the re-read and counts 0
    expect(freed.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect((await consistent(ipam)).allocated).toBe(1);
    expect((await ipam.handles()).map((h) => h.handle)).toEqual(['first']);
  });

  it('a new handle is created without a read first, yet a retried allocation under write faults gets the same address', async () => {
    const store = new MemoryStore();
    const ipam = new BlockAllocator(store, { retry: { maxAttempts: 40 } });
    await ipam.createPool(DEFAULT_POOL);
    for (let k = 0; k < 64; k++) {
      const r = req(`h${k}`, 'n1');
      store.failNextWrites(k % 4);
      const a = await ipam.allocate(r);
      store.failNextWrites((k >> 2) % 4);
      expect(await ipam.allocate(r), `h${k}`).toEqual(a);
    }
    expect(store.injected).toBeGreaterThan(100);
    expect((await consistent(ipam)).allocated).toBe(64);
    expect(new Set((await ipam.handles()).flatMap((h) => h.addresses)).size).toBe(64);
  });

  it('a batch larger than the node can hold: those that fit succeed, the rest fail and leave nothing', async () => {
    const ipam = new BlockAllocator(new MemoryStore());
    await ipam.createPool({ name: 'tiny', spec: { cidr: '10.9.0.0/28', blockSize: 28 } });
    await ipam.setConfig({ strictAffinity: true });
    const outcomes = await ipam.allocateMany(Array.from({ length: 24 }, (_, i) => req(`p${i}`, 'n1')));
    const ok = outcomes.filter((o) => o.ok);
    const failed = outcomes.flatMap((o) => (o.ok ? [] : [o.error]));
    expect(ok).toHaveLength(16);
    expect(failed).toHaveLength(8);
    for (const e of failed) expect(e).toBeInstanceOf(NoFreeAddressError);
    const { allocated } = await consistent(ipam);
    expect(allocated).toBe(16);
    // the failed requests left no handle behind
    expect(await ipam.store.handles.list()).toHaveLength(16);
  });

  it('dual stack all or nothing in a batch: no IPv6 left means the IPv4 taken for it goes back', async () => {
    const ipam = new BlockAllocator(new MemoryStore());
    await ipam.createPool(DEFAULT_POOL);
    await ipam.createPool({ name: 'v6', spec: { cidr: 'fd00:10::/126', blockSize: 126 } });
    await ipam.setConfig({ strictAffinity: true });
    const outcomes = await ipam.allocateMany(Array.from({ length: 10 }, (_, i) => req(`d${i}`, 'n1', 1, 1)));
    const ok = outcomes.flatMap((o) => (o.ok ? [o.allocation] : []));
    expect(ok).toHaveLength(4);
    for (const a of ok) expect(a.addresses.map((x) => x.family).sort()).toEqual([4, 6]);
    for (const o of outcomes) if (!o.ok) expect(o.error).toBeInstanceOf(NoFreeAddressError);
    const { allocated } = await consistent(ipam);
    expect(allocated).toBe(8);
  });
});

describe('BlockAllocator group commit over the API (embedded apiserver, 409s injected)', () => {
  it('20 pods of a node at once with conflicts injected: distinct addresses, fewer block writes, clean release', async () => {
    await using env = await startEnv();
    const admin = kubernetesIpam(env.kubeconfig());
    await admin.createPool(DEFAULT_POOL);
    await env.addNode('node-a');
    const ipam = kubernetesIpam(env.kubeconfig(), { retry: { maxAttempts: 40 } });
    await ipam.allocate(req('first', 'node-a'));
    const before = ipam.blockWriteStats;
    env.server.faults.failNextWrites(6, 409);
    const t0 = performance.now();
    const outcomes = await ipam.allocateMany(Array.from({ length: 20 }, (_, i) => req(`p${i}`, 'node-a')));
    const ms = performance.now() - t0;
    for (const o of outcomes) expect(o.ok, o.ok ? '' : o.error.message).toBe(true);
    const addrs = outcomes.flatMap((o) => (o.ok ? o.allocation.addresses.map((a) => a.address) : []));
    expect(new Set(addrs).size).toBe(20);
    const stats = ipam.blockWriteStats;
    expect(stats.changes - before.changes).toBeGreaterThanOrEqual(20);
    expect(stats.writes - before.writes).toBeLessThan(20);
    const { allocated } = await consistent(ipam);
    expect(allocated).toBe(21);
    // a second client (another process) sees the same state
    expect((await admin.handles({ node: 'node-a' })).map((h) => h.addresses[0])).toEqual(expect.arrayContaining(addrs));
    env.server.faults.failNextWrites(6, 409);
    const freed = await Promise.all(Array.from({ length: 20 }, (_, i) => ipam.releaseByHandle(`p${i}`)));
    expect(freed).toEqual(Array(20).fill(1));
    expect((await consistent(ipam)).allocated).toBe(1);
    process.stdout.write(
      `group commit: 20 allocations in ${Math.round(ms)} ms, ${stats.writes - before.writes} block writes (largest batch ${stats.largestBatch})\n`,
    );
  });
});
