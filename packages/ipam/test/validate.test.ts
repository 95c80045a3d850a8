import { describe, expect, it } from 'vitest';
import { BlockAllocator, DEFAULT_POOL, type IPPool, MemoryStore, ValidationError, validatePool } from '../src/index.js';

const pool = (cidr: string, blockSize?: number, name = 'p'): IPPool => ({
  name,
  spec: { cidr, ...(blockSize !== undefined ? { blockSize } : {}) },
});

function fieldOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return e.field;
    throw e;
  }
  return undefined;
}

describe('validatePool', () => {
  it('fills Calico defaults', () => {
    expect(validatePool(pool('10.1.0.0/16')).spec.blockSize).toBe(26);
    expect(validatePool(pool('fd00::/64')).spec).toMatchObject({ blockSize: 122, ipipMode: 'Never' });
    expect(validatePool(pool('fd00:0:0::/64')).spec.cidr).toBe('fd00::/64');
  });

  it.each([
    ['10.1.0.0/33', undefined, 'spec.cidr'],
    ['10.1.0.1/16', undefined, 'spec.cidr'],
    ['banana', undefined, 'spec.cidr'],
    ['10.1.0.0/16', 19, 'spec.blockSize'],
    ['10.1.0.0/16', 33, 'spec.blockSize'],
    ['fd00::/64', 115, 'spec.blockSize'],
    ['fd00::/64', 26, 'spec.blockSize'],
    ['10.1.0.0/28', 26, 'spec.blockSize'],
  ] as const)('refuses %s blockSize %s naming %s', (cidr, bs, field) => {
    expect(fieldOf(() => validatePool(pool(cidr, bs)))).toBe(field);
  });

  it('refuses overlapping pools, bad modes and selectors, naming the field', () => {
    expect(fieldOf(() => validatePool(pool('10.244.128.0/17'), [DEFAULT_POOL]))).toBe('spec.cidr');
    expect(() => validatePool(pool('10.244.128.0/17'), [DEFAULT_POOL])).toThrow(/overlaps pool default-ipv4-ippool/);
    expect(fieldOf(() => validatePool({ name: 'p', spec: { cidr: 'fd00::/64', ipipMode: 'Always' } }))).toBe(
      'spec.ipipMode',
    );
    expect(fieldOf(() => validatePool({ name: 'p', spec: { cidr: '10.0.0.0/16', nodeSelector: 'zone ~ a' } }))).toBe(
      'spec.nodeSelector',
    );
    expect(fieldOf(() => validatePool({ name: 'Bad_Name', spec: { cidr: '10.0.0.0/16' } }))).toBe('metadata.name');
  });

  it('a refused pool changes nothing already allocated; an invalid stored pool is ignored', async () => {
    const store = new MemoryStore();
    const ipam = new BlockAllocator(store);
    await ipam.createPool(DEFAULT_POOL);
    const a = await ipam.allocate({ handle: 'h', node: 'n', ipv4: 1, ipv6: 0, attributes: {} });
    const before = JSON.stringify(await store.blocks.list());
    await expect(ipam.createPool(pool('10.244.0.0/24', 26, 'overlap'))).rejects.toThrow(/^spec\.cidr: /);
    await expect(ipam.updatePool({ name: DEFAULT_POOL.name, spec: { cidr: '10.245.0.0/16' } })).rejects.toThrow(
      /^spec\.cidr: cannot change/,
    );
    // Written around validation (e.g. kubectl apply): never used.
    await store.pools.create('zz-bad', { cidr: '10.244.0.0/20', blockSize: 26 });
    expect((await ipam.pools()).map((p) => p.name)).toEqual([DEFAULT_POOL.name]);
    expect(JSON.stringify(await store.blocks.list())).toBe(before);
    expect(await ipam.allocate({ handle: 'h', node: 'n', ipv4: 1, ipv6: 0, attributes: {} })).toEqual(a);
  });
});
