import { ApiextensionsV1Api, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { type AllocatorOptions, BlockAllocator } from './allocator.js';
import { loadCrds } from './crds.js';
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

/** Creates Tortie's CRDs (`loadCrds()`) through apiextensions.k8s.io/v1, for a fresh cluster or a test. */
export async function applyCrds(kubeconfig: KubeConfig): Promise<void> {
  const ext = kubeconfig.makeApiClient(ApiextensionsV1Api);
  // loadCrds() builds apiextensions.k8s.io/v1 objects as plain records (they are rendered to YAML too)
  for (const crd of loadCrds())
    await ext.createCustomResourceDefinition({ body: crd as unknown as V1CustomResourceDefinition });
}
