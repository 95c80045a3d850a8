import type { KubeConfig } from '@kubernetes/client-node';
import { type AllocatorOptions, BlockAllocator } from './allocator.js';
import { KubernetesCluster, KubernetesStore } from './k8s-store.js';
import { type RetryOptions, withRetries } from './retry.js';

export interface KubernetesIpamOptions {
  /** Bounded, jittered retries on 409/5xx (default 20 attempts, 5 ms doubling to 500 ms). */
  readonly retry?: RetryOptions;
}

/** The allocator over the Kubernetes API; node labels (for pool nodeSelectors) come from Nodes. */
export function kubernetesIpam(kubeconfig: KubeConfig, opts: KubernetesIpamOptions = {}): BlockAllocator {
  const cluster = new KubernetesCluster(kubeconfig);
  const allocatorOpts: AllocatorOptions = {
    ...(opts.retry ? { retry: opts.retry } : {}),
    nodeLabels: async (node) =>
      (await withRetries(`read node ${node}`, { maxAttempts: 8 }, () => cluster.getNode(node)))?.labels ?? {},
  };
  return new BlockAllocator(new KubernetesStore(kubeconfig), allocatorOpts);
}
