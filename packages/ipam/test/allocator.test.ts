import { describe, expect, it } from 'vitest';
import { BlockAllocator, DEFAULT_POOL, MemoryStore, NoFreeAddressError, PoolInUseError } from '../src/index.js';
import { req } from './harness.js';

async function setup(pools = [DEFAULT_POOL]): Promise<{ store: MemoryStore; ipam: BlockAllocator }> {
  const store = new MemoryStore();
  const ipam = new BlockAllocator(store);
  for (const p of pools) await ipam.createPool(p);
  return { store, ipam };
}

describe('BlockAllocator (in memory)', () => {
  it('allocates from an affine block, idempotently per handle', async () => {
    const { store, ipam } = await setup();
    const a = await ipam.allocate(req('h1', 'n1'));
    expect(a.addresses).toHaveLength(1);
    const [addr] = a.addresses;
    expect(addr?.family).toBe(4);
    expect(addr?.pool).toBe('default-ipv4-ippool');
    expect(addr?.block).toMatch(/^10\.244\.\d+\.\d+\/26$/);
    const again = await ipam.allocate(req('h1', 'n1'));
    expect(again.addresses).toEqual(a.addresses);
    const affs = await store.affinities.list();
    expect(affs.map((x) => x.spec)).toEqual([{ node: 'n1', cidr: addr?.block, state: 'confirmed' }]);
    expect(await ipam.releaseByHandle('h1')).toBe(1);
    expect(await ipam.releaseByHandle('h1')).toBe(0);
    expect(await ipam.handles()).toEqual([]);
  });

  it('claims a second block when the first is full and never hands out an address twice', async () => {
    const { ipam } = await setup();
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => ipam.allocate(req(`p${i}`, 'n1'))));
    const addrs = all.flatMap((a) => a.addresses.map((x) => x.address));
    expect(new Set(addrs).size).toBe(100);
    expect(new Set(all.flatMap((a) => a.addresses.map((x) => x.block))).size).toBe(2);
  });

  it('survives injected write failures without duplicates or leaks', async () => {
    const { store, ipam } = await setup();
    store.failNextWrites(40);
    const all = await Promise.all(Array.from({ length: 60 }, (_, i) => ipam.allocate(req(`p${i}`, `n${i % 3}`))));
    expect(store.injected).toBe(40);
    expect(new Set(all.flatMap((a) => a.addresses.map((x) => x.address))).size).toBe(60);
    const hs = await ipam.handles();
    expect(hs.map((h) => h.addresses.length)).toEqual(Array(60).fill(1));
    for (let i = 0; i < 60; i++) expect(await ipam.releaseByHandle(`p${i}`)).toBe(1);
    for (const b of await store.blocks.list()) expect(b.spec.unallocated).toHaveLength(64);
  });

  it('gives one IPv4 and one IPv6 address per handle in dual stack', async () => {
    const { ipam } = await setup([
      DEFAULT_POOL,
      { name: 'v6', spec: { cidr: 'fd00:10:244::/112', ipipMode: 'Never' } },
    ]);
    const a = await ipam.allocate(req('d1', 'n1', 1, 1));
    expect(a.addresses.map((x) => x.family).sort()).toEqual([4, 6]);
    expect(a.addresses.find((x) => x.family === 6)?.block).toMatch(/\/122$/);
  });

  it('borrows unless strictAffinity, then fails naming node and pools', async () => {
    const { ipam } = await setup([{ name: 'tiny', spec: { cidr: '10.9.0.0/26', blockSize: 26 } }]);
    await Promise.all(Array.from({ length: 60 }, (_, i) => ipam.allocate(req(`a${i}`, 'n1'))));
    const b = await ipam.allocate(req('b0', 'n2'));
    expect(b.addresses[0]?.block).toBe('10.9.0.0/26'); // borrowed from n1's block
    await ipam.setConfig({ strictAffinity: true });
    await expect(ipam.allocate(req('b1', 'n2'))).rejects.toThrow(new NoFreeAddressError('n2', ['tiny'], 4).message);
    await expect(ipam.allocate(req('b1', 'n2'))).rejects.toThrow(/no free address for node n2 in pools tiny/);
  });

  it('a disabled pool hands out nothing; removing a pool in use is refused', async () => {
    const { ipam } = await setup();
    await ipam.allocate(req('x', 'n1'));
    await ipam.setPoolDisabled(DEFAULT_POOL.name, true);
    await expect(ipam.allocate(req('y', 'n1'))).rejects.toBeInstanceOf(NoFreeAddressError);
    await expect(ipam.deletePool(DEFAULT_POOL.name)).rejects.toBeInstanceOf(PoolInUseError);
    expect(await ipam.releaseByHandle('x')).toBe(1);
    await ipam.deletePool(DEFAULT_POOL.name);
    expect(await ipam.pools()).toEqual([]);
    expect(await ipam.store.blocks.list()).toEqual([]);
  });
});
