// The usage report behind `tortiectl ipam show`: per pool and per node, blocks and addresses
// used/free; with showBlocks every block and the handle/pod of each address; with ip one address.
import { addressOf, allocatedEntries, blockInUse, ordinalOf } from './block.js';
import { cidrContains, cidrSize, parseCidr } from './cidr.js';
import { affinityNode } from './names.js';
import type { IpamStore } from './store.js';
import type { IPPool } from './types.js';

export interface UsageOptions {
  readonly showBlocks?: boolean;
  readonly ip?: string;
}

export interface AddressUsage {
  readonly address: string;
  readonly handle: string | null;
  readonly namespace?: string;
  readonly pod?: string;
  readonly node?: string;
}

export interface BlockUsage {
  readonly cidr: string;
  readonly pool: string;
  /** Owning node, or undefined for an unowned block. */
  readonly node: string | undefined;
  readonly used: number;
  readonly free: number;
  readonly addresses: readonly AddressUsage[];
}

export interface UsageReport {
  readonly pools: readonly {
    name: string;
    cidr: string;
    blockSize: number;
    disabled: boolean;
    /** Addresses in the pool, as a decimal string (an IPv6 pool exceeds a JS number). */
    size: string;
    blocks: number;
    used: number;
    /** Free addresses in claimed blocks. */
    free: number;
  }[];
  readonly nodes: readonly { node: string; blocks: number; used: number; free: number; borrowed: number }[];
  readonly blocks?: readonly BlockUsage[];
  readonly ip?: { address: string; block: string | undefined; allocated: boolean; owner?: AddressUsage };
}

export async function ipamUsage(
  store: IpamStore,
  pools: readonly IPPool[],
  opts: UsageOptions = {},
): Promise<UsageReport> {
  const blocks = (await store.blocks.list()).sort((a, b) => a.name.localeCompare(b.name));
  const poolOf = (cidr: string): IPPool | undefined => {
    const c = parseCidr(cidr);
    return pools.find((p) => cidrContains(parseCidr(p.spec.cidr), c.family, c.base));
  };
  const blockUsage: BlockUsage[] = blocks.map((b) => ({
    cidr: b.spec.cidr,
    pool: poolOf(b.spec.cidr)?.name ?? '',
    node: affinityNode(b.spec.affinity),
    used: blockInUse(b.spec),
    free: b.spec.unallocated.length,
    addresses: allocatedEntries(b.spec).map(({ ordinal, attr }) => {
      const s = attr.secondary ?? {};
      return {
        address: addressOf(b.spec, ordinal),
        handle: attr.handle_id,
        ...(s.namespace !== undefined ? { namespace: s.namespace } : {}),
        ...(s.pod !== undefined ? { pod: s.pod } : {}),
        ...(s.node !== undefined ? { node: s.node } : {}),
      };
    }),
  }));
  const poolRows = pools.map((p) => {
    const mine = blockUsage.filter((b) => b.pool === p.name);
    return {
      name: p.name,
      cidr: p.spec.cidr,
      blockSize: p.spec.blockSize ?? 0,
      disabled: p.spec.disabled === true,
      size: cidrSize(parseCidr(p.spec.cidr)).toString(),
      blocks: mine.length,
      used: mine.reduce((n, b) => n + b.used, 0),
      free: mine.reduce((n, b) => n + b.free, 0),
    };
  });
  const nodes = new Map<string, { node: string; blocks: number; used: number; free: number; borrowed: number }>();
  const row = (node: string) => {
    let r = nodes.get(node);
    if (!r) {
      r = { node, blocks: 0, used: 0, free: 0, borrowed: 0 };
      nodes.set(node, r);
    }
    return r;
  };
  for (const b of blockUsage) {
    if (b.node !== undefined) {
      const r = row(b.node);
      r.blocks++;
      r.used += b.used;
      r.free += b.free;
    }
    for (const a of b.addresses) if (a.node !== undefined && a.node !== b.node) row(a.node).borrowed++;
  }
  let ip: UsageReport['ip'];
  if (opts.ip !== undefined) {
    const b = blocks.find((x) => ordinalOf(x.spec, opts.ip ?? '') !== undefined);
    const owner = b
      ? blockUsage.find((u) => u.cidr === b.spec.cidr)?.addresses.find((a) => a.address === opts.ip)
      : undefined;
    ip = { address: opts.ip, block: b?.spec.cidr, allocated: owner !== undefined, ...(owner ? { owner } : {}) };
  }
  return {
    pools: poolRows,
    nodes: [...nodes.values()].sort((a, b) => a.node.localeCompare(b.node)),
    ...(opts.showBlocks ? { blocks: blockUsage } : {}),
    ...(ip ? { ip } : {}),
  };
}

/** Plain-text rendering, as `tortiectl ipam show` prints it. */
export function formatUsage(r: UsageReport): string {
  const lines: string[] = ['POOL\tCIDR\tBLOCKS\tUSED\tFREE(in blocks)\tSIZE\tDISABLED'];
  for (const p of r.pools)
    lines.push(`${p.name}\t${p.cidr}\t${p.blocks}\t${p.used}\t${p.free}\t${p.size}\t${p.disabled}`);
  lines.push('', 'NODE\tBLOCKS\tUSED\tFREE\tBORROWED');
  for (const n of r.nodes) lines.push(`${n.node}\t${n.blocks}\t${n.used}\t${n.free}\t${n.borrowed}`);
  if (r.blocks) {
    lines.push('', 'BLOCK\tPOOL\tNODE\tUSED\tFREE');
    for (const b of r.blocks) {
      lines.push(`${b.cidr}\t${b.pool}\t${b.node ?? '(none)'}\t${b.used}\t${b.free}`);
      for (const a of b.addresses) {
        lines.push(`  ${a.address}\t${a.handle ?? ''}\t${a.namespace ?? ''}/${a.pod ?? ''}\t${a.node ?? ''}`);
      }
    }
  }
  if (r.ip) {
    const o = r.ip.owner;
    lines.push(
      '',
      o
        ? `${r.ip.address}: in block ${r.ip.block}, handle ${o.handle ?? ''}, pod ${o.namespace ?? ''}/${o.pod ?? ''} on ${o.node ?? ''}`
        : `${r.ip.address}: ${r.ip.block ? `free in block ${r.ip.block}` : 'not in any block'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
