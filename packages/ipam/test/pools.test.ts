// Pools through the API, the Kubernetes way: the controller keeps a finalizer on every IPPool and
// lets a deleted pool go only once none of its addresses is in use; a pool that is invalid or
// overlaps another is never used and says why in its status. kubectl does the deletes and creates.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POOL,
  type IpamController,
  kubernetesIpam,
  kubernetesIpamController,
  NoFreeAddressError,
  POOL_FINALIZER,
  type StoredCondition,
} from '../src/index.js';
import { type Env, startEnv, until } from './harness.js';

const POOL = DEFAULT_POOL.name;
const attrs = (pod: string, node: string) => ({ namespace: 'default', pod, node });

async function condition(env: Env, pool: string, type: string): Promise<StoredCondition | undefined> {
  const p = await kubernetesIpam(env.kubeconfig()).store.pools.get(pool);
  return p?.status?.conditions?.find((c) => c.type === type);
}

async function controller(env: Env): Promise<IpamController> {
  const ctl = kubernetesIpamController(env.kubeconfig(), {
    gcIntervalMs: 3_600_000,
    poolRecheckMs: 100,
  });
  await ctl.start();
  return ctl;
}

describe('IPPool lifecycle through the API (embedded apiserver, kubectl)', () => {
  it('kubectl delete of a pool in use: nothing new handed out, empty blocks released, deleted when the last address goes', async () => {
    await using env = await startEnv({ tls: true });
    const ipam = kubernetesIpam(env.kubeconfig());
    await ipam.createPool(DEFAULT_POOL);
    await env.addNode('n1');
    await env.addNode('n2');
    const ctl = await controller(env);
    try {
      // The controller puts its finalizer on the pool and gives each node a block.
      await until('finalizer', async () =>
        (await ipam.store.pools.get(POOL))?.metadata?.finalizers?.includes(POOL_FINALIZER),
      );
      await until('blocks for both nodes', async () => (await ipam.store.blocks.list()).length === 2);
      for (let i = 0; i < 3; i++) {
        await ipam.allocate({ handle: `h${i}`, node: 'n1', ipv4: 1, ipv6: 0, attributes: attrs(`p${i}`, 'n1') });
      }
      const out = await env.kubectl(['delete', 'ippool', POOL, '--wait=false']);
      expect(out).toContain(`ippool.crd.tortie.dev "${POOL}" deleted`);

      // Held by the finalizer, and it says why.
      const blocked = await until('DeletionBlocked', () => condition(env, POOL, 'DeletionBlocked'));
      expect(blocked.status).toBe('True');
      expect(blocked.reason).toBe('AddressesInUse');
      expect(blocked.message).toMatch(/^deletion waits: 3 addresses in use \(default\/p0, default\/p1, default\/p2\)/);
      const stored = await ipam.store.pools.get(POOL);
      expect(stored?.metadata?.deletionTimestamp).toBeDefined();
      // n2's empty block (and its affinity) went; n1's block, holding addresses, stays.
      const blocks = await ipam.store.blocks.list();
      expect(blocks.map((b) => b.spec.affinity)).toEqual(['host:n1']);
      expect((await ipam.store.affinities.list()).map((a) => a.spec.node)).toEqual(['n1']);
      // From the moment of deletion the pool hands out nothing, not even from n1's own block.
      await expect(
        ipam.allocate({ handle: 'late', node: 'n1', ipv4: 1, ipv6: 0, attributes: attrs('late', 'n1') }),
      ).rejects.toBeInstanceOf(NoFreeAddressError);
      // Retrying an allocation that already holds its address still answers it (idempotency).
      expect(
        (await ipam.allocate({ handle: 'h0', node: 'n1', ipv4: 1, ipv6: 0, attributes: {} })).addresses,
      ).toHaveLength(1);

      await ipam.releaseByHandle('h0');
      await ipam.releaseByHandle('h1');
      const one = await until('one address left', async () => {
        const c = await condition(env, POOL, 'DeletionBlocked');
        return c?.message.startsWith('deletion waits: 1 address in use (default/p2)') ? c : undefined;
      });
      expect(one.status).toBe('True');
      expect(await ipam.store.pools.get(POOL)).toBeDefined();

      await ipam.releaseByHandle('h2');
      await until('pool gone', async () => (await ipam.store.pools.get(POOL)) === undefined);
      expect(await ipam.store.blocks.list()).toEqual([]);
      expect(await ipam.store.affinities.list()).toEqual([]);
      expect(ctl.metrics.poolsFinalized).toBe(1);
      expect(await env.kubectl(['get', 'ippools', '-o', 'name'])).toBe('');
    } finally {
      await ctl.stop();
    }
  });

  it('a pool created through the API that overlaps another, or is invalid, is never used and says which field', async () => {
    await using env = await startEnv({ tls: true });
    const ipam = kubernetesIpam(env.kubeconfig());
    await ipam.createPool(DEFAULT_POOL);
    await env.addNode('n1');
    const ctl = await controller(env);
    try {
      const before = await ipam.allocate({ handle: 'h0', node: 'n1', ipv4: 1, ipv6: 0, attributes: attrs('p0', 'n1') });
      // "a-..." sorts before the default pool: name order must not decide which pool wins.
      await env.kubectl(
        ['apply', '-f', '-'],
        `apiVersion: crd.tortie.dev/v1
kind: IPPool
metadata: { name: a-overlapping }
spec: { cidr: 10.244.0.0/17, blockSize: 26 }
---
apiVersion: crd.tortie.dev/v1
kind: IPPool
metadata: { name: bad-blocksize }
spec: { cidr: 10.250.0.0/16, blockSize: 120 }
`,
      );
      const overlap = await until('Valid=False on the overlapping pool', () =>
        condition(env, 'a-overlapping', 'Valid'),
      );
      expect(overlap.status).toBe('False');
      expect(overlap.reason).toBe('Overlap');
      expect(overlap.message).toBe(
        `spec.cidr: 10.244.0.0/17 overlaps pool ${POOL} (10.244.0.0/16); pools must be disjoint; this pool is not used until it is fixed`,
      );
      const bad = await until('Valid=False on the bad pool', () => condition(env, 'bad-blocksize', 'Valid'));
      expect(bad.reason).toBe('Invalid');
      expect(bad.message).toMatch(/^spec\.blockSize: 120 is out of range for an IPv4 pool \(20-32\)/);
      expect((await until('Valid=True on the default pool', () => condition(env, POOL, 'Valid'))).status).toBe('True');

      // Nothing already allocated changes; new addresses still come from the default pool.
      expect((await ipam.pools()).map((p) => p.name)).toEqual([POOL]);
      const again = await ipam.allocate({ handle: 'h0', node: 'n1', ipv4: 1, ipv6: 0, attributes: {} });
      expect(again).toEqual(before);
      const next = await ipam.allocate({ handle: 'h1', node: 'n1', ipv4: 1, ipv6: 0, attributes: attrs('p1', 'n1') });
      expect(next.addresses[0]?.pool).toBe(POOL);
      expect((await ipam.store.blocks.list()).map((b) => b.spec.cidr)).toEqual([before.addresses[0]?.block]);

      // Fixing the pool through the API makes it valid (and usable).
      await env.kubectl([
        'patch',
        'ippool',
        'a-overlapping',
        '--type=merge',
        '-p',
        '{"spec":{"cidr":"10.245.0.0/16"}}',
      ]);
      await until(
        'Valid=True after the fix',
        async () => (await condition(env, 'a-overlapping', 'Valid'))?.status === 'True',
      );
      expect((await ipam.pools()).map((p) => p.name)).toEqual(['a-overlapping', POOL]);
      // An invalid pool being deleted holds nothing: it goes at once.
      await env.kubectl(['delete', 'ippool', 'bad-blocksize', '--wait=false']);
      await until('bad pool gone', async () => (await ipam.store.pools.get('bad-blocksize')) === undefined);
    } finally {
      await ctl.stop();
    }
  });
});
