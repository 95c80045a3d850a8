// `tortiectl ipam show`: pool, node, block and address usage from the IPAM objects in the API,
// through @tortie/ipam's public usage report.
import type { KubeConfig } from '@kubernetes/client-node';
import { ipamUsage, kubernetesIpam, parseIp, type UsageReport } from '@tortie/ipam';
import { UsageError } from './args.js';
import { table } from './table.js';

export interface IpamShowOptions {
  readonly showBlocks: boolean;
  readonly ip?: string;
}

/** Pools the API holds that are not used, and why. */
export interface PoolProblem {
  readonly name: string;
  readonly cidr: string;
  readonly field: string;
  readonly error: string;
}

export interface IpamShowReport extends UsageReport {
  /** Pools that are invalid or overlap another: never used (`error` names the field). */
  readonly unusedPools: readonly PoolProblem[];
  /** Pools being deleted (they hand out nothing new; they go once their addresses are free). */
  readonly deletingPools: readonly string[];
}

export async function ipamShow(kc: KubeConfig, opts: IpamShowOptions): Promise<IpamShowReport> {
  if (opts.ip !== undefined) {
    try {
      parseIp(opts.ip, '--ip');
    } catch {
      throw new UsageError(`--ip: "${opts.ip}" is not an IPv4 or IPv6 address`);
    }
  }
  const ipam = kubernetesIpam(kc);
  const [pools, states] = await Promise.all([ipam.pools(), ipam.poolStates()]);
  const report = await ipamUsage(ipam.store, pools, {
    showBlocks: opts.showBlocks,
    ...(opts.ip !== undefined ? { ip: opts.ip } : {}),
  });
  return {
    ...report,
    unusedPools: states.flatMap((s) =>
      s.error ? [{ name: s.name, cidr: s.stored.spec.cidr, field: s.error.field, error: s.error.message }] : [],
    ),
    deletingPools: pools.filter((p) => p.deletionTimestamp !== undefined).map((p) => p.name),
  };
}

export function formatIpamShow(r: IpamShowReport): string {
  const out: string[] = [];
  const deleting = new Set(r.deletingPools);
  out.push(
    table(
      ['POOL', 'CIDR', 'BLOCK SIZE', 'BLOCKS', 'USED', 'FREE (IN BLOCKS)', 'SIZE', 'STATE'],
      r.pools.map((p) => [
        p.name,
        p.cidr,
        `/${p.blockSize}`,
        String(p.blocks),
        String(p.used),
        String(p.free),
        p.size,
        deleting.has(p.name) ? 'deleting' : p.disabled ? 'disabled' : 'active',
      ]),
    ),
  );
  if (r.unusedPools.length > 0) out.push('');
  for (const u of r.unusedPools) out.push(`pool ${u.name} (${u.cidr}) is not used: ${u.error}`);
  out.push(
    '',
    table(
      ['NODE', 'BLOCKS', 'USED', 'FREE', 'BORROWED'],
      r.nodes.map((n) => [n.node, String(n.blocks), String(n.used), String(n.free), String(n.borrowed)]),
    ),
  );
  if (r.blocks) {
    out.push(
      '',
      table(
        ['BLOCK', 'POOL', 'NODE', 'USED', 'FREE'],
        r.blocks.map((b) => [b.cidr, b.pool || '(none)', b.node ?? '(none)', String(b.used), String(b.free)]),
      ),
    );
    const addrs = r.blocks.flatMap((b) =>
      b.addresses.map((a) => [
        a.address,
        b.cidr,
        a.handle ?? '',
        a.namespace !== undefined || a.pod !== undefined ? `${a.namespace ?? ''}/${a.pod ?? ''}` : '',
        a.node ?? '',
      ]),
    );
    out.push('', addrs.length > 0 ? table(['ADDRESS', 'BLOCK', 'HANDLE', 'POD', 'NODE'], addrs) : 'no address in use');
  }
  if (r.ip) {
    const o = r.ip.owner;
    out.push(
      '',
      o
        ? `${r.ip.address}: in use, block ${r.ip.block ?? ''}, handle ${o.handle ?? '(none)'}, pod ${o.namespace ?? '?'}/${o.pod ?? '?'}, node ${o.node ?? '?'}`
        : r.ip.block
          ? `${r.ip.address}: free, in block ${r.ip.block}`
          : `${r.ip.address}: not in any block`,
    );
  }
  return `${out.join('\n')}\n`;
}
