// Pool validation. Errors name the offending field so `kubectl`/`tortiectl` users can fix it.
import { cidrsOverlap, formatCidr, parseCidr } from './cidr.js';
import { ValidationError } from './errors.js';
import { parseSelector } from './selector.js';
import type { IPPool, IPPoolSpec } from './types.js';

export const BLOCK_SIZE_RANGE = { 4: { min: 20, max: 32, dflt: 26 }, 6: { min: 116, max: 128, dflt: 122 } } as const;

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MODES = ['Always', 'CrossSubnet', 'Never'];
const USES = ['Workload', 'Tunnel'];

/**
 * Checks `pool` on its own and against `others` (the pools already stored; an entry with the
 * same name is the pool being replaced and is ignored). Returns the pool with defaults filled in
 * and the CIDR in canonical form; throws ValidationError naming the field otherwise.
 */
export function validatePool(pool: IPPool, others: readonly IPPool[] = []): IPPool {
  if (pool.name.length > 253 || !NAME.test(pool.name)) {
    throw new ValidationError('metadata.name', `"${pool.name}" is not a valid object name (DNS subdomain)`);
  }
  const s = pool.spec;
  const cidr = parseCidr(s.cidr, 'spec.cidr');
  const range = BLOCK_SIZE_RANGE[cidr.family];
  const blockSize = s.blockSize ?? range.dflt;
  if (!Number.isInteger(blockSize) || blockSize < range.min || blockSize > range.max) {
    throw new ValidationError(
      'spec.blockSize',
      `${blockSize} is out of range for an IPv${cidr.family} pool (${range.min}-${range.max})`,
    );
  }
  if (cidr.prefix > blockSize) {
    throw new ValidationError(
      'spec.blockSize',
      `pool ${formatCidr(cidr)} is smaller than one /${blockSize} block; use a wider cidr or blockSize >= ${cidr.prefix}`,
    );
  }
  for (const f of ['ipipMode', 'vxlanMode'] as const) {
    const v = s[f];
    if (v !== undefined && !MODES.includes(v)) {
      throw new ValidationError(`spec.${f}`, `"${v}" is not one of ${MODES.join(', ')}`);
    }
  }
  const ipip = s.ipipMode ?? (cidr.family === 4 ? 'CrossSubnet' : 'Never');
  const vxlan = s.vxlanMode ?? 'Never';
  if (cidr.family === 6 && ipip !== 'Never') {
    throw new ValidationError('spec.ipipMode', 'IP-in-IP carries IPv4 only; set ipipMode: Never for an IPv6 pool');
  }
  if (ipip !== 'Never' && vxlan !== 'Never') {
    throw new ValidationError('spec.vxlanMode', 'ipipMode and vxlanMode cannot both be enabled; set one to Never');
  }
  for (const [i, u] of (s.allowedUses ?? []).entries()) {
    if (!USES.includes(u))
      throw new ValidationError(`spec.allowedUses[${i}]`, `"${u}" is not one of ${USES.join(', ')}`);
  }
  parseSelector(s.nodeSelector, 'spec.nodeSelector');
  for (const other of others) {
    if (other.name === pool.name) continue;
    let oc: ReturnType<typeof parseCidr>;
    try {
      oc = parseCidr(other.spec.cidr);
    } catch {
      continue; // an invalid stored pool is never used, so it cannot conflict
    }
    if (cidrsOverlap(cidr, oc)) {
      throw new ValidationError(
        'spec.cidr',
        `${formatCidr(cidr)} overlaps pool ${other.name} (${formatCidr(oc)}); pools must be disjoint`,
      );
    }
  }
  const spec: IPPoolSpec = {
    ...s,
    cidr: formatCidr(cidr),
    blockSize,
    ipipMode: ipip,
    vxlanMode: vxlan,
    natOutgoing: s.natOutgoing ?? false,
    nodeSelector: s.nodeSelector ?? 'all()',
    disabled: s.disabled ?? false,
    allowedUses: s.allowedUses ?? ['Workload', 'Tunnel'],
  };
  return { name: pool.name, spec };
}
