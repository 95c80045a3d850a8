export {
  type AllocationOutcome,
  type AllocatorOptions,
  BlockAllocator,
  type BlockWriteStats,
  IPAM_CONFIG_NAME,
} from './allocator.js';
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
export {
  type Clock,
  type ControllerMetrics,
  type GcReport,
  IpamController,
  type IpamControllerOptions,
  type NodeEventSource,
  PoolCondition,
  type ReconcileKind,
} from './controller.js';
export { crdFileName, loadCrds } from './crds.js';
export * from './errors.js';
export {
  type KubernetesIpamControllerOptions,
  kubernetesIpamController,
  NodeInformerSource,
  PoolInformerSource,
} from './k8s-controller.js';
export { IPAM_PLURALS, KubernetesCluster, KubernetesStore } from './k8s-store.js';
export { applyCrds, type KubernetesIpamOptions, kubernetesIpam } from './kubernetes.js';
export { formatMetrics } from './metrics.js';
export { affinityNode, affinityValue, cidrObjectName, handleObjectName } from './names.js';
export { assessPools, POOL_FINALIZER, type PoolAssessment } from './pools.js';
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
  type StoredCondition,
  type StoredMeta,
  type StoredStatus,
  type Versioned,
} from './store.js';
export * from './types.js';
export { formatUsage, ipamUsage, type UsageOptions, type UsageReport } from './usage.js';
export { BLOCK_SIZE_RANGE, validatePool } from './validate.js';
export { WorkQueue } from './workqueue.js';
