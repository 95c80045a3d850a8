// The public IPAM contract (consumed by the CNI plugin, the agent and tortiectl) and the stored
// resource shapes. Field names follow Calico's so that operators can read them without a glossary.

export const TORTIE_API_GROUP = 'crd.tortie.dev';
export const TORTIE_API_VERSION = 'v1';

export interface AllocationRequest {
  readonly handle: string;
  readonly node: string;
  readonly ipv4: number;
  readonly ipv6: number;
  /** namespace, pod, node, containerId */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface AllocatedAddress {
  readonly address: string;
  readonly family: 4 | 6;
  /** The block's CIDR. */
  readonly block: string;
  /** The pool's name. */
  readonly pool: string;
}

export interface Allocation {
  readonly handle: string;
  readonly addresses: readonly AllocatedAddress[];
}

export interface HandleSummary {
  readonly handle: string;
  readonly addresses: readonly string[];
  readonly attributes: Readonly<Record<string, string>>;
}

export interface Ipam {
  /** Idempotent per handle; throws NoFreeAddressError ("no free address for node X in pools Y"). */
  allocate(req: AllocationRequest): Promise<Allocation>;
  /** Number of addresses released; 0 if the handle holds none (idempotent). */
  releaseByHandle(handle: string): Promise<number>;
  handles(filter?: { node?: string }): Promise<readonly HandleSummary[]>;
}

export const EncapMode = { Always: 'Always', CrossSubnet: 'CrossSubnet', Never: 'Never' } as const;
export type EncapMode = (typeof EncapMode)[keyof typeof EncapMode];

export const AllowedUse = { Workload: 'Workload', Tunnel: 'Tunnel' } as const;
export type AllowedUse = (typeof AllowedUse)[keyof typeof AllowedUse];

/** IPPool spec as stored. */
export interface IPPoolSpec {
  readonly cidr: string;
  readonly blockSize?: number;
  readonly ipipMode?: EncapMode;
  readonly vxlanMode?: EncapMode;
  readonly natOutgoing?: boolean;
  /** Calico-style selector: `all()`, `key == 'v'`, `key != 'v'`, `has(key)`, joined with `&&`. */
  readonly nodeSelector?: string;
  readonly disabled?: boolean;
  readonly allowedUses?: readonly AllowedUse[];
}

export interface IPPool {
  readonly name: string;
  readonly spec: IPPoolSpec;
  /** Set on a pool being deleted (reported by `BlockAllocator.pools()`, which also disables it). */
  readonly deletionTimestamp?: string;
}

export interface AllocationAttribute {
  readonly handle_id: string | null;
  readonly secondary: Readonly<Record<string, string>> | null;
}

/** IPAMBlock spec as stored: the unit of atomicity, updated only with the resourceVersion read. */
export interface IPAMBlockSpec {
  readonly cidr: string;
  /** `host:<node>` or null once the owning node has gone. */
  readonly affinity: string | null;
  /** One entry per ordinal: index into `attributes`, or null when free. */
  readonly allocations: readonly (number | null)[];
  /** Free ordinals, in the order they will be handed out. */
  readonly unallocated: readonly number[];
  readonly attributes: readonly AllocationAttribute[];
  /** Set (with CAS) before the object is deleted, so no allocation can land in a dying block. */
  readonly deleted: boolean;
}

export const AffinityState = {
  Pending: 'pending',
  Confirmed: 'confirmed',
  PendingDeletion: 'pending-deletion',
} as const;
export type AffinityState = (typeof AffinityState)[keyof typeof AffinityState];

export interface BlockAffinitySpec {
  readonly node: string;
  readonly cidr: string;
  readonly state: AffinityState;
  readonly deleted?: boolean;
}

export interface IPAMHandleSpec {
  readonly handleID: string;
  /** block CIDR -> number of this handle's addresses in it. Written before the block. */
  readonly block: Readonly<Record<string, number>>;
  readonly deleted?: boolean;
}

export interface IPAMConfigSpec {
  readonly strictAffinity: boolean;
  readonly maxBlocksPerHost: number;
  readonly autoAllocateBlocks: boolean;
}

export const DEFAULT_IPAM_CONFIG: IPAMConfigSpec = {
  strictAffinity: false,
  maxBlocksPerHost: 0,
  autoAllocateBlocks: true,
};

export const DEFAULT_POOL: IPPool = {
  name: 'default-ipv4-ippool',
  spec: {
    cidr: '10.244.0.0/16',
    blockSize: 26,
    ipipMode: 'CrossSubnet',
    vxlanMode: 'Never',
    natOutgoing: true,
    nodeSelector: 'all()',
    disabled: false,
    allowedUses: ['Workload', 'Tunnel'],
  },
};
