// CustomResourceDefinitions of Tortie's API group. This module is the source of truth; the YAML
// under deploy/crds is generated from it (see test/crds.test.ts) so the two cannot drift apart.
import { TORTIE_API_GROUP, TORTIE_API_VERSION } from './types.js';

type Schema = Readonly<Record<string, unknown>>;

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const bool = (description: string): Schema => ({ type: 'boolean', description });
const int = (description: string, extra: Schema = {}): Schema => ({ type: 'integer', description, ...extra });
const MODE = ['Always', 'CrossSubnet', 'Never'];
const ASN = { minimum: 1, maximum: 4294967295 };
const cidrList = (description: string): Schema => ({
  type: 'array',
  description,
  items: { type: 'object', required: ['cidr'], properties: { cidr: str('A CIDR.') } },
});

interface CrdDef {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames?: readonly string[];
  readonly description: string;
  readonly required?: readonly string[];
  readonly spec: Readonly<Record<string, Schema>>;
  readonly columns: readonly { name: string; type: string; jsonPath: string; description?: string }[];
  /** Schema of `.status`, served through the status subresource. */
  readonly status?: Schema;
}

const CONDITIONS: Schema = {
  type: 'object',
  description: 'Written by the IPAM controller.',
  properties: {
    conditions: {
      type: 'array',
      description:
        'Valid (False when the pool is invalid or overlaps an older pool: it is never used, the message names the field) and DeletionBlocked (True while a deleted pool still holds addresses).',
      items: {
        type: 'object',
        required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
        properties: {
          type: str('Condition type.'),
          status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
          reason: str('One CamelCase word.'),
          message: str('What is wrong and what to do.'),
          lastTransitionTime: str('When status last changed.', { format: 'date-time' }),
          observedGeneration: int('The generation this condition was computed from.', { minimum: 0 }),
        },
      },
    },
  },
};

const DEFS: readonly CrdDef[] = [
  {
    kind: 'IPPool',
    plural: 'ippools',
    singular: 'ippool',
    shortNames: ['ipp'],
    description: 'A range of pod addresses, handed out to nodes in blocks of blockSize.',
    required: ['cidr'],
    spec: {
      cidr: str('The pool, e.g. 10.244.0.0/16; host bits must be zero.', { minLength: 1 }),
      blockSize: int('Prefix length of the per-node blocks: 20-32 for IPv4 (default 26), 116-128 for IPv6 (122).', {
        minimum: 20,
        maximum: 128,
      }),
      ipipMode: str('IP-in-IP encapsulation between nodes.', { enum: MODE }),
      vxlanMode: str('VXLAN encapsulation between nodes.', { enum: MODE }),
      natOutgoing: bool('Masquerade traffic from pods to destinations outside all pools.'),
      nodeSelector: str("Nodes that may take blocks from this pool (e.g. all(), zone == 'a')."),
      disabled: bool('A disabled pool hands out no new addresses; existing ones stay.'),
      allowedUses: {
        type: 'array',
        description: 'What addresses from this pool may be used for.',
        items: { type: 'string', enum: ['Workload', 'Tunnel'] },
      },
    },
    columns: [
      { name: 'CIDR', type: 'string', jsonPath: '.spec.cidr' },
      { name: 'Block', type: 'integer', jsonPath: '.spec.blockSize' },
      { name: 'IPIP', type: 'string', jsonPath: '.spec.ipipMode' },
      { name: 'VXLAN', type: 'string', jsonPath: '.spec.vxlanMode' },
      { name: 'Disabled', type: 'boolean', jsonPath: '.spec.disabled' },
    ],
    status: CONDITIONS,
  },
  {
    kind: 'IPAMBlock',
    plural: 'ipamblocks',
    singular: 'ipamblock',
    description: 'One block of a pool and its allocations; updated only with the resourceVersion read.',
    required: ['cidr', 'allocations', 'unallocated', 'attributes'],
    spec: {
      cidr: str('The block.'),
      affinity: str('host:<node> owning (and advertising) the block; null when unowned.', { nullable: true }),
      allocations: {
        type: 'array',
        description: 'Per ordinal: index into attributes, or null when free.',
        items: { type: 'integer', nullable: true, minimum: 0 },
      },
      unallocated: {
        type: 'array',
        description: 'Free ordinals in hand-out order.',
        items: { type: 'integer', minimum: 0 },
      },
      attributes: {
        type: 'array',
        description: 'Owner of each allocation: handle and pod attributes.',
        items: {
          type: 'object',
          properties: {
            handle_id: str('The handle holding the address.', { nullable: true }),
            secondary: {
              type: 'object',
              nullable: true,
              description: 'namespace, pod, node, containerId.',
              additionalProperties: { type: 'string' },
            },
          },
        },
      },
      deleted: bool('Set before deletion so that nothing is allocated in a dying block.'),
    },
    columns: [
      { name: 'CIDR', type: 'string', jsonPath: '.spec.cidr' },
      { name: 'Affinity', type: 'string', jsonPath: '.spec.affinity' },
      { name: 'Deleted', type: 'boolean', jsonPath: '.spec.deleted' },
    ],
  },
  {
    kind: 'BlockAffinity',
    plural: 'blockaffinities',
    singular: 'blockaffinity',
    description: 'A node owns a block. Named after the CIDR, so a block has at most one affinity.',
    required: ['node', 'cidr', 'state'],
    spec: {
      node: str('The owning node.', { minLength: 1 }),
      cidr: str('The block.'),
      state: str('Claim progress.', { enum: ['pending', 'confirmed', 'pending-deletion'] }),
      deleted: bool('Reserved (Calico compatibility).'),
    },
    columns: [
      { name: 'Node', type: 'string', jsonPath: '.spec.node' },
      { name: 'CIDR', type: 'string', jsonPath: '.spec.cidr' },
      { name: 'State', type: 'string', jsonPath: '.spec.state' },
    ],
  },
  {
    kind: 'IPAMHandle',
    plural: 'ipamhandles',
    singular: 'ipamhandle',
    description: 'The blocks that hold the addresses of one handle (a pod interface); written before the blocks.',
    required: ['handleID', 'block'],
    spec: {
      handleID: str('The handle, e.g. k8s-pod-network.<containerId>.', { minLength: 1 }),
      block: {
        type: 'object',
        description: 'Block CIDR to the number of this handle’s addresses in it.',
        additionalProperties: { type: 'integer', minimum: 0 },
      },
      deleted: bool('Reserved (Calico compatibility).'),
    },
    columns: [{ name: 'Handle', type: 'string', jsonPath: '.spec.handleID' }],
  },
  {
    kind: 'IPAMConfig',
    plural: 'ipamconfigs',
    singular: 'ipamconfig',
    description: 'Cluster-wide IPAM settings; the object named default is used.',
    spec: {
      strictAffinity: bool('Never borrow addresses from another node’s block.'),
      maxBlocksPerHost: int('Most blocks a node may own; 0 = no limit.', { minimum: 0 }),
      autoAllocateBlocks: bool('Claim new blocks on demand (default true).'),
    },
    columns: [
      { name: 'Strict', type: 'boolean', jsonPath: '.spec.strictAffinity' },
      { name: 'MaxBlocks', type: 'integer', jsonPath: '.spec.maxBlocksPerHost' },
    ],
  },
  {
    kind: 'BGPConfiguration',
    plural: 'bgpconfigurations',
    singular: 'bgpconfiguration',
    description: 'BGP settings: the object named default for the cluster, node.<name> per node.',
    spec: {
      asNumber: int('The cluster AS number (default 64512).', ASN),
      nodeToNodeMeshEnabled: bool('Full iBGP mesh between nodes (default true).'),
      listenPort: int('BGP port (default 179).', { minimum: 1, maximum: 65535 }),
      logSeverityScreen: str('Speaker log level.', { enum: ['Debug', 'Info', 'Warning', 'Error', 'Fatal'] }),
      serviceClusterIPs: cidrList('Service cluster IP ranges to advertise.'),
      serviceExternalIPs: cidrList('Service external IP ranges to advertise.'),
      serviceLoadBalancerIPs: cidrList('Service LoadBalancer IP ranges to advertise.'),
      nodeMeshMaxRestartTime: str('Graceful-restart time for mesh peers (e.g. 120s).'),
      communities: {
        type: 'array',
        description: 'Named community values.',
        items: { type: 'object', properties: { name: str('Name.'), value: str('aa:nn or aa:nn:mm.') } },
      },
      prefixAdvertisements: {
        type: 'array',
        description: 'Communities attached to advertised CIDRs.',
        items: {
          type: 'object',
          properties: { cidr: str('A CIDR.'), communities: { type: 'array', items: { type: 'string' } } },
        },
      },
    },
    columns: [
      { name: 'AS', type: 'integer', jsonPath: '.spec.asNumber' },
      { name: 'Mesh', type: 'boolean', jsonPath: '.spec.nodeToNodeMeshEnabled' },
    ],
  },
  {
    kind: 'BGPPeer',
    plural: 'bgppeers',
    singular: 'bgppeer',
    description: 'An explicit BGP peer, for all nodes, one node or a selection of nodes.',
    spec: {
      node: str('Only this node peers (empty: see nodeSelector, else all nodes).'),
      nodeSelector: str('The nodes that peer.'),
      peerIP: str('Peer address, optionally with :port.'),
      peerSelector: str('Peer with the nodes this selects (route reflectors).'),
      asNumber: int('Peer AS number.', ASN),
      password: {
        type: 'object',
        description: 'TCP-MD5 password from a Secret.',
        properties: {
          secretKeyRef: {
            type: 'object',
            required: ['name', 'key'],
            properties: { name: str('Secret name.'), key: str('Key in the Secret.') },
          },
        },
      },
      keepOriginalNextHop: bool('Do not rewrite the next hop towards this peer.'),
      sourceAddress: str('Source address of the session.', { enum: ['UseNodeIP', 'None'] }),
      maxRestartTime: str('Graceful-restart time for this peer (e.g. 120s).'),
      numAllowedLocalASNumbers: int('Times our AS may appear in received paths.', { minimum: 0 }),
      ttlSecurity: int('GTSM hops (0 = off).', { minimum: 0, maximum: 255 }),
      reachableBy: str('Gateway to reach the peer through.'),
      filters: { type: 'array', description: 'BGP filter names.', items: { type: 'string' } },
    },
    columns: [
      { name: 'PeerIP', type: 'string', jsonPath: '.spec.peerIP' },
      { name: 'AS', type: 'integer', jsonPath: '.spec.asNumber' },
      { name: 'Node', type: 'string', jsonPath: '.spec.node' },
    ],
  },
];

function crd(d: CrdDef): Record<string, unknown> {
  const specSchema: Record<string, unknown> = { type: 'object', properties: d.spec };
  if (d.required) specSchema.required = d.required;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${d.plural}.${TORTIE_API_GROUP}` },
    spec: {
      group: TORTIE_API_GROUP,
      scope: 'Cluster',
      names: {
        kind: d.kind,
        listKind: `${d.kind}List`,
        plural: d.plural,
        singular: d.singular,
        ...(d.shortNames ? { shortNames: d.shortNames } : {}),
      },
      versions: [
        {
          name: TORTIE_API_VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: d.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: specSchema,
                ...(d.status ? { status: d.status } : {}),
              },
            },
          },
          ...(d.status ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: [
            ...d.columns,
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}

/** The CRDs as objects, ready to create through apiextensions.k8s.io/v1. */
export function loadCrds(): Record<string, unknown>[] {
  return DEFS.map((d) => crd(d));
}

/** File name of each CRD under deploy/crds. */
export const crdFileName = (c: Record<string, unknown>): string => `${(c.metadata as { name: string }).name}.yaml`;
