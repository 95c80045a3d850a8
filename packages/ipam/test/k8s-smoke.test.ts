import { describe, expect, it } from 'vitest';
import { DEFAULT_POOL, kubernetesIpam } from '../src/index.js';
import { startEnv } from './harness.js';

describe('kubernetesIpam against the embedded apiserver', () => {
  it('allocates and releases through CRDs', async () => {
    await using env = await startEnv();
    const ipam = kubernetesIpam(env.kubeconfig());
    await ipam.createPool(DEFAULT_POOL);
    await env.addNode('n1');
    const a = await ipam.allocate({
      handle: 'h1',
      node: 'n1',
      ipv4: 1,
      ipv6: 0,
      attributes: { pod: 'p', namespace: 'default', node: 'n1' },
    });
    expect(a.addresses).toHaveLength(1);
    expect(await ipam.allocate({ handle: 'h1', node: 'n1', ipv4: 1, ipv6: 0, attributes: {} })).toEqual(a);
    expect(await ipam.releaseByHandle('h1')).toBe(1);
  });
});
