// Which stored pools are usable, and why the others are not. A pool is checked on its own
// (validatePool) and against the pools already accepted; when two overlap, the one that holds
// blocks wins, then the older one, then the first by name: a pool created (or edited) through the
// API so that it overlaps another is never used, and nothing already allocated changes.
import { cidrContains, cidrsOverlap, parseCidr } from './cidr.js';
import { ValidationError } from './errors.js';
import type { Versioned } from './store.js';
import type { IPAMBlockSpec, IPPool, IPPoolSpec } from './types.js';
import { validatePool } from './validate.js';

/** The finalizer the IPAM controller keeps on every IPPool until none of its addresses is in use. */
export const POOL_FINALIZER = 'crd.tortie.dev/ipam';

export interface PoolAssessment {
  readonly name: string;
  readonly stored: Versioned<IPPoolSpec>;
  /** The pool with defaults filled in, when it is usable (absent when `error` says why not). */
  readonly pool?: IPPool;
  readonly error?: ValidationError;
  /** Deletion was asked for (deletionTimestamp): the pool hands out nothing new. */
  readonly deleting: boolean;
}

const created = (p: Versioned<IPPoolSpec>): string => p.metadata?.creationTimestamp ?? '\uffff';

/**
 * Assesses every stored pool, in name order. `blocks` is read only when two otherwise valid pools
 * overlap (to let the pool holding blocks win).
 */
export async function assessPools(
  stored: readonly Versioned<IPPoolSpec>[],
  blocks: () => Promise<readonly Versioned<IPAMBlockSpec>[]>,
): Promise<PoolAssessment[]> {
  const alone = new Map<string, IPPool>();
  const errors = new Map<string, ValidationError>();
  for (const p of stored) {
    try {
      alone.set(p.name, validatePool({ name: p.name, spec: p.spec }));
    } catch (e) {
      errors.set(p.name, e instanceof ValidationError ? e : new ValidationError('spec', String(e)));
    }
  }
  const candidates = stored.filter((p) => alone.has(p.name));
  const cidrs = new Map(candidates.map((p) => [p.name, parseCidr(alone.get(p.name)?.spec.cidr ?? '')]));
  let overlap = false;
  for (const [i, a] of candidates.entries()) {
    for (const b of candidates.slice(i + 1)) {
      const ca = cidrs.get(a.name);
      const cb = cidrs.get(b.name);
      if (ca && cb && cidrsOverlap(ca, cb)) overlap = true;
    }
  }
  const holdsBlocks = new Set<string>();
  if (overlap) {
    for (const b of await blocks()) {
      const bc = parseCidr(b.spec.cidr);
      for (const [name, pc] of cidrs) if (cidrContains(pc, bc.family, bc.base)) holdsBlocks.add(name);
    }
  }
  const order = [...candidates].sort(
    (a, b) =>
      Number(holdsBlocks.has(b.name)) - Number(holdsBlocks.has(a.name)) ||
      created(a).localeCompare(created(b)) ||
      a.name.localeCompare(b.name),
  );
  const accepted: IPPool[] = [];
  for (const p of order) {
    try {
      accepted.push(validatePool({ name: p.name, spec: p.spec }, accepted));
    } catch (e) {
      errors.set(p.name, e instanceof ValidationError ? e : new ValidationError('spec', String(e)));
    }
  }
  const byName = new Map(accepted.map((p) => [p.name, p]));
  return [...stored]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => {
      const pool = byName.get(p.name);
      const error = errors.get(p.name);
      return {
        name: p.name,
        stored: p,
        deleting: p.metadata?.deletionTimestamp !== undefined,
        ...(pool ? { pool } : {}),
        ...(error && !pool ? { error } : {}),
      };
    });
}
