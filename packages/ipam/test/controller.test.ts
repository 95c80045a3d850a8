import { describe, expect, it } from 'vitest';
import {
  BlockAllocator,
  DEFAULT_POOL,
  formatUsage,
  IpamController,
  ipamUsage,
  MemoryCluster,
  MemoryStore,
} from '../src/index.js';

const GRACE = 15 * 60_000;

async function setup() {
  const store = new MemoryStore();
  const ipam = new BlockAllocator(store);
  await ipam.createPool(DEFAULT_POOL);
  const cluster = new MemoryCluster();
  let now = 1_000_000;
  const clock = { now: () => now };
  const ctl = new IpamController(ipam, cluster, { clock, gcGracePeriodMs: GRACE });
  const advance = (ms: number) => {
    now += ms;
  };
  return { store, ipam, cluster, ctl, advance };
}

const podReq = (pod: string, node: string) => ({
  handle: `k8s-pod-network.${pod}`,
  node,
  ipv4: 1,
  ipv6: 0,
  attributes: { namespace: 'default', pod, node },
});

describe('IpamController (in memory, injected clock)', () => {
  it('gives a new node a block before its first pod', async () => {
    const { store, cluster, ctl } = await setup();
    cluster.nodes.set('n1', { name: 'n1', labels: {} });
    await ctl.reconcileNode('n1');
    const affs = await store.affinities.list();
    expect(affs.map((a) => [a.spec.node, a.spec.state])).toEqual([['n1', 'confirmed']]);
    await ctl.reconcileNode('n1'); // level-triggered: no second block
    expect(await store.affinities.list()).toHaveLength(1);
  });

  it('releases a leaked address only after two checks a grace period apart, never a live one', async () => {
    const { ipam, cluster, ctl, advance } = await setup();
    cluster.nodes.set('n1', { name: 'n1', labels: {} });
    for (const p of ['live', 'leak']) cluster.addPod({ namespace: 'default', name: p, node: 'n1' });
    const live = await ipam.allocate(podReq('live', 'n1'));
    const leak = await ipam.allocate(podReq('leak', 'n1'));
    cluster.deletePod('default', 'leak');
    expect((await ctl.collectGarbage()).releasedAddresses).toEqual([]);
    advance(GRACE - 1);
    expect((await ctl.collectGarbage()).releasedAddresses).toEqual([]);
    // API errors: the pass aborts and releases nothing.
    advance(2);
    cluster.failing = true;
    await expect(ctl.collectGarbage()).rejects.toThrow(/injected/);
    cluster.failing = false;
    const r = await ctl.collectGarbage();
    expect(r.releasedAddresses).toEqual([leak.addresses[0]?.address]);
    const hs = await ipam.handles();
    expect(hs.map((h) => h.addresses)).toEqual([[live.addresses[0]?.address]]);
    advance(10 * GRACE);
    expect((await ctl.collectGarbage()).releasedAddresses).toEqual([]);
  });

  it('frees a deleted node’s blocks, keeping addresses of pods that still exist until they go', async () => {
    const { store, ipam, cluster, ctl, advance } = await setup();
    cluster.nodes.set('n1', { name: 'n1', labels: {} });
    cluster.addPod({ namespace: 'default', name: 'a', node: 'n1' });
    cluster.addPod({ namespace: 'default', name: 'b', node: 'n1' });
    await ipam.allocate(podReq('a', 'n1'));
    await ipam.allocate(podReq('b', 'n1'));
    cluster.nodes.delete('n1');
    cluster.deletePod('default', 'a');
    await ctl.reconcileNode('n1');
    // b's pod still exists: its address stays, the block stays but loses its owner.
    expect((await ipam.handles()).map((h) => h.attributes.pod)).toEqual(['b']);
    expect(await store.affinities.list()).toEqual([]);
    const [block] = await store.blocks.list();
    expect(block?.spec.affinity).toBeNull();
    cluster.deletePod('default', 'b');
    await ctl.collectGarbage();
    advance(GRACE);
    const r = await ctl.collectGarbage();
    expect(r.releasedAddresses).toHaveLength(1);
    advance(GRACE);
    await ctl.collectGarbage();
    advance(GRACE);
    await ctl.collectGarbage();
    expect(await store.blocks.list()).toEqual([]);
    expect(await ipam.handles()).toEqual([]);
  });

  it('reports usage per pool, node, block and address', async () => {
    const { ipam, store } = await setup();
    await ipam.allocate(podReq('a', 'n1'));
    const a = await ipam.allocate(podReq('b', 'n2'));
    const ip = a.addresses[0]?.address ?? '';
    const r = await ipamUsage(store, await ipam.pools(), { showBlocks: true, ip });
    expect(r.pools).toEqual([
      {
        name: DEFAULT_POOL.name,
        cidr: '10.244.0.0/16',
        blockSize: 26,
        disabled: false,
        size: '65536',
        blocks: 2,
        used: 2,
        free: 126,
      },
    ]);
    expect(r.nodes.map((n) => [n.node, n.blocks, n.used, n.free])).toEqual([
      ['n1', 1, 1, 63],
      ['n2', 1, 1, 63],
    ]);
    expect(r.ip?.owner?.pod).toBe('b');
    expect(formatUsage(r)).toContain(`${ip}: in block`);
  });
});
