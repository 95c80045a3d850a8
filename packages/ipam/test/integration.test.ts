// Acceptance tests over HTTP against the embedded API server, with injected faults.
import { describe, expect, it } from 'vitest';
import {
  type Allocation,
  type BlockAllocator,
  DEFAULT_POOL,
  IpamController,
  KubernetesCluster,
  kubernetesIpam,
  kubernetesIpamController,
  NoFreeAddressError,
} from '../src/index.js';
import { type Env, startEnv } from './harness.js';

const NODES = 10;
const PER_NODE = 100;
const GRACE = 15 * 60_000;

const attrs = (pod: string, node: string) => ({ namespace: 'default', pod, node, containerId: `c-${pod}` });

/** Injects 409s, 500s and dropped watches every few ms until stopped; returns counts. */
function chaos(env: Env): { stop(): { conflicts: number; errors: number; drops: number } } {
  const counts = { conflicts: 0, errors: 0, drops: 0 };
  let i = 0;
  const t = setInterval(() => {
    i++;
    if (i % 3 === 0) {
      env.server.faults.failNextWrites(3, 409);
      counts.conflicts += 3;
    } else if (i % 3 === 1) {
      env.server.faults.failNextWrites(2, 500);
      counts.errors += 2;
    } else {
      env.server.faults.dropWatches();
      counts.drops++;
    }
  }, 60);
  return {
    stop() {
      clearInterval(t);
      return counts;
    },
  };
}

async function blockAffinityInvariants(ipam: BlockAllocator): Promise<void> {
  const [affs, blocks] = await Promise.all([ipam.store.affinities.list(), ipam.store.blocks.list()]);
  // One affinity per CIDR, and it agrees with its block's owner.
  expect(new Set(affs.map((a) => a.spec.cidr)).size).toBe(affs.length);
  const byCidr = new Map(blocks.map((b) => [b.spec.cidr, b.spec]));
  for (const a of affs) {
    if (a.spec.state === 'confirmed') expect(byCidr.get(a.spec.cidr)?.affinity).toBe(`host:${a.spec.node}`);
  }
}

describe('IPAM over the Kubernetes API (embedded apiserver, faults injected)', () => {
  it(`${NODES} nodes allocate ${NODES * PER_NODE} addresses concurrently: no duplicates, no leaks`, async () => {
    await using env = await startEnv();
    const admin = kubernetesIpam(env.kubeconfig());
    await admin.createPool(DEFAULT_POOL);
    const nodes = Array.from({ length: NODES }, (_, i) => `node-${i}`);
    for (const n of nodes) await env.addNode(n);
    // The controller runs throughout, its Node watch dropped again and again.
    const ctl = kubernetesIpamController(env.kubeconfig(), { gcGracePeriodMs: GRACE, gcIntervalMs: 3_600_000 });
    await ctl.start();

    const started = performance.now();
    const faults = chaos(env);
    const results = await Promise.all(
      nodes.map(async (node) => {
        // Each simulated node is its own client, with its pods' CNI ADDs in parallel.
        const ipam = kubernetesIpam(env.kubeconfig(), { retry: { maxAttempts: 40 } });
        const out: Allocation[] = [];
        const queue = Array.from({ length: PER_NODE }, (_, i) => `${node}-pod-${i}`);
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            for (let pod = queue.shift(); pod !== undefined; pod = queue.shift()) {
              const req = { handle: `k8s-pod-network.${pod}`, node, ipv4: 1, ipv6: 0, attributes: attrs(pod, node) };
              const a = await ipam.allocate(req);
              // A retried ADD (the response "lost") returns the same address.
              if (pod.endsWith('7')) expect(await ipam.allocate(req)).toEqual(a);
              out.push(a);
            }
          }),
        );
        return out;
      }),
    );
    const injected = faults.stop();
    const allocMs = performance.now() - started;

    const addresses = results.flat().flatMap((a) => a.addresses.map((x) => x.address));
    expect(addresses).toHaveLength(NODES * PER_NODE);
    expect(new Set(addresses).size).toBe(NODES * PER_NODE);
    await blockAffinityInvariants(admin);
    const handles = await admin.handles();
    expect(handles).toHaveLength(NODES * PER_NODE);
    expect(handles.every((h) => h.addresses.length === 1)).toBe(true);
    for (const n of nodes) expect(await admin.handles({ node: n })).toHaveLength(PER_NODE);

    // Release everything, still under faults.
    const faults2 = chaos(env);
    const released = await Promise.all(
      results.map(async (allocs) => {
        const ipam = kubernetesIpam(env.kubeconfig(), { retry: { maxAttempts: 40 } });
        const queue = allocs.map((a) => a.handle);
        let n = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            for (let h = queue.shift(); h !== undefined; h = queue.shift()) {
              // (not `n += await`: that reads n before the await and loses concurrent updates)
              const r = await ipam.releaseByHandle(h);
              n += r;
            }
          }),
        );
        return n;
      }),
    );
    const injected2 = faults2.stop();
    expect(released.reduce((x, y) => x + y, 0)).toBe(NODES * PER_NODE);
    expect(await admin.handles()).toEqual([]);
    for (const b of await admin.store.blocks.list()) expect(b.spec.unallocated).toHaveLength(64);

    // Deleting the nodes gives every block back: the pool is whole again.
    for (const n of nodes) await env.deleteNode(n);
    const deadline = Date.now() + 20_000;
    while ((await admin.store.blocks.list()).length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await admin.store.blocks.list()).toEqual([]);
    expect(await admin.store.affinities.list()).toEqual([]);
    await ctl.stop();
    console.log(
      `acceptance: ${addresses.length} addresses on ${NODES} nodes in ${Math.round(allocMs)} ms; ` +
        `injected while allocating ${injected.conflicts} 409s, ${injected.errors} 500s, ${injected.drops} watch drops; ` +
        `while releasing ${injected2.conflicts} 409s, ${injected2.errors} 500s`,
    );
  });

  it('gives each new Node a block at once, and frees a deleted Node’s blocks', async () => {
    await using env = await startEnv();
    const admin = kubernetesIpam(env.kubeconfig());
    await admin.createPool(DEFAULT_POOL);
    await admin.createPool({ name: 'v6', spec: { cidr: 'fd00:10:244::/112', ipipMode: 'Never' } });
    const ctl = kubernetesIpamController(env.kubeconfig(), { gcGracePeriodMs: GRACE });
    await ctl.start();
    await env.addNode('worker-1');
    const waitFor = async (pred: () => Promise<boolean>) => {
      const deadline = Date.now() + 10_000;
      while (!(await pred())) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitFor(async () => (await admin.store.affinities.list()).length === 2);
    const affs = await admin.store.affinities.list();
    expect(affs.map((a) => [a.spec.node, a.spec.state])).toEqual([
      ['worker-1', 'confirmed'],
      ['worker-1', 'confirmed'],
    ]);
    // Dual stack: one IPv4 and one IPv6 per handle.
    await env.addPod('default', 'web', 'worker-1');
    const ipam = kubernetesIpam(env.kubeconfig());
    const a = await ipam.allocate({
      handle: 'h-web',
      node: 'worker-1',
      ipv4: 1,
      ipv6: 1,
      attributes: attrs('web', 'worker-1'),
    });
    expect(a.addresses.map((x) => x.family).sort()).toEqual([4, 6]);
    expect(new Set(a.addresses.map((x) => x.block))).toEqual(new Set(affs.map((x) => x.spec.cidr)));

    await env.deletePod('default', 'web');
    await env.deleteNode('worker-1');
    await waitFor(async () => (await admin.store.blocks.list()).length === 0);
    expect(await admin.store.affinities.list()).toEqual([]);
    expect(await admin.handles()).toEqual([]);
    await ctl.stop();
  });

  it('GC frees leaked addresses after the grace period and never a live one, even while the API fails', async () => {
    await using env = await startEnv();
    const admin = kubernetesIpam(env.kubeconfig());
    await admin.createPool(DEFAULT_POOL);
    await env.addNode('n1');
    let now = 0;
    const ctl = new IpamController(admin, new KubernetesCluster(env.kubeconfig()), {
      gcGracePeriodMs: GRACE,
      clock: { now: () => now },
    });
    const live: string[] = [];
    const leaked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const pod = `p${i}`;
      await env.addPod('default', pod, 'n1');
      const a = await admin.allocate({
        handle: `h-${pod}`,
        node: 'n1',
        ipv4: 1,
        ipv6: 0,
        attributes: attrs(pod, 'n1'),
      });
      (i % 2 === 0 ? live : leaked).push(a.addresses[0]?.address ?? '');
      if (i % 2 === 1) await env.deletePod('default', pod);
    }
    expect((await ctl.collectGarbage()).suspects).toBe(10);
    now += GRACE - 1;
    expect((await ctl.collectGarbage()).releasedAddresses).toEqual([]);
    now += 1;
    // Writes fail (500s, 409s): releases retry; whatever happens, live addresses stay.
    env.server.faults.failNextWrites(6, 500);
    env.server.faults.failNextWrites(6, 409);
    let released: string[] = [];
    for (let attempt = 0; attempt < 5 && released.length < 10; attempt++) {
      try {
        released = [...released, ...(await ctl.collectGarbage()).releasedAddresses];
      } catch {
        // a failed pass releases nothing it did not finish; the next pass picks up
      }
    }
    expect(released.sort()).toEqual([...leaked].sort());
    const remaining = (await admin.handles()).flatMap((h) => h.addresses);
    expect(remaining.sort()).toEqual([...live].sort());
    now += 10 * GRACE;
    expect((await ctl.collectGarbage()).releasedAddresses).toEqual([]);
  });

  it('borrows when the node’s blocks are full unless strictAffinity, then fails clearly', async () => {
    await using env = await startEnv();
    const admin = kubernetesIpam(env.kubeconfig());
    await admin.createPool({ name: 'small', spec: { cidr: '10.50.0.0/25', blockSize: 26 } });
    await admin.setConfig({ maxBlocksPerHost: 1 });
    await env.addNode('a');
    await env.addNode('b');
    for (let i = 0; i < 64; i++) {
      await admin.allocate({ handle: `a${i}`, node: 'a', ipv4: 1, ipv6: 0, attributes: attrs(`a${i}`, 'a') });
    }
    await admin.allocate({ handle: 'b0', node: 'b', ipv4: 1, ipv6: 0, attributes: attrs('b0', 'b') });
    // a's block is full and a may own only one block: it borrows from b's block.
    const borrowed = await admin.allocate({
      handle: 'a64',
      node: 'a',
      ipv4: 1,
      ipv6: 0,
      attributes: attrs('a64', 'a'),
    });
    const bBlock = (await admin.store.affinities.list()).find((x) => x.spec.node === 'b')?.spec.cidr;
    expect(borrowed.addresses[0]?.block).toBe(bBlock);
    await admin.setConfig({ strictAffinity: true });
    const err = await admin
      .allocate({ handle: 'a65', node: 'a', ipv4: 1, ipv6: 0, attributes: attrs('a65', 'a') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoFreeAddressError);
    expect((err as Error).message).toMatch(/^no free address for node a in pools small/);
    expect((await admin.handles()).find((h) => h.handle === 'a65')).toBeUndefined();
  });
});
