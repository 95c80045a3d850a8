import type { KubeConfig } from '@kubernetes/client-node';
import { type AllocatorOptions, BlockAllocator } from './allocator.js';
import { KubernetesCluster, KubernetesStore } from './k8s-store.js';
import type { RetryOptions } from './retry.js';

export { type AllocatorOptions, BlockAllocator, IPAM_CONFIG_NAME } from './allocator.js';
export * from './block.js';
export {
  blockContaining,
  type Cidr,
  canonicalCidr,
  cidrContains,
  cidrSize,
  cidrsOverlap,
  formatCidr,
  formatIp,
  parseCidr,
  parseIp,
} from './cidr.js';
export { crdFileName, loadCrds } from './crds.js';
export * from './errors.js';
export { IPAM_PLURALS, KubernetesCluster, KubernetesStore } from './k8s-store.js';
export { affinityNode, affinityValue, cidrObjectName, handleObjectName } from './names.js';
export { isRetryable, type RetryOptions, withRetries } from './retry.js';
export { parseSelector, selectorMatches } from './selector.js';
export {
  type ClusterView,
  type Collection,
  type IpamStore,
  MemoryCluster,
  MemoryStore,
  type NodeInfo,
  type PodInfo,
  type Versioned,
} from './store.js';
export * from './types.js';
export { BLOCK_SIZE_RANGE, validatePool } from './validate.js';

export interface KubernetesIpamOptions {
  /** Bounded, jittered retries on 409/5xx. */
  readonly retry?: RetryOptions;
}

/** The allocator over the Kubernetes API; node labels (for pool nodeSelectors) come from Nodes. */
export function kubernetesIpam(kubeconfig: KubeConfig, opts: KubernetesIpamOptions = {}): BlockAllocator {
  const cluster = new KubernetesCluster(kubeconfig);
  const allocatorOpts: AllocatorOptions = {
    ...(opts.retry ? { retry: opts.retry } : {}),
    nodeLabels: async (node) => (await cluster.getNode(node))?.labels ?? {},
  };
  return new BlockAllocator(new KubernetesStore(kubeconfig), allocatorOpts);
}
