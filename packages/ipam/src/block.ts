// Pure operations on an IPAMBlock spec. Every function returns a new spec; the storage layer
// writes it back with the resourceVersion it read, so a block is changed atomically or not at all.
import { type Cidr, cidrContains, cidrSize, formatIp, parseCidr, parseIp } from './cidr.js';
import type { AllocationAttribute, IPAMBlockSpec } from './types.js';

export function newBlock(cidr: Cidr, affinity: string | null): IPAMBlockSpec {
  const size = Number(cidrSize(cidr));
  return {
    cidr: `${formatIp(cidr.family, cidr.base)}/${cidr.prefix}`,
    affinity,
    allocations: Array<number | null>(size).fill(null),
    unallocated: Array.from({ length: size }, (_, i) => i),
    attributes: [],
    deleted: false,
  };
}

export const blockFree = (b: IPAMBlockSpec): number => b.unallocated.length;
export const blockInUse = (b: IPAMBlockSpec): number => b.allocations.length - b.unallocated.length;
export const blockFamily = (b: IPAMBlockSpec): 4 | 6 => parseCidr(b.cidr).family;

export function addressOf(b: IPAMBlockSpec, ordinal: number): string {
  const c = parseCidr(b.cidr);
  return formatIp(c.family, c.base + BigInt(ordinal));
}

/** Ordinal of `address` in `b`, or undefined when the address is outside the block. */
export function ordinalOf(b: IPAMBlockSpec, address: string): number | undefined {
  const c = parseCidr(b.cidr);
  const ip = parseIp(address);
  return cidrContains(c, ip.family, ip.value) ? Number(ip.value - c.base) : undefined;
}

export function attributeAt(b: IPAMBlockSpec, ordinal: number): AllocationAttribute | undefined {
  const idx = b.allocations[ordinal];
  return idx === null || idx === undefined ? undefined : b.attributes[idx];
}

export function ordinalsForHandle(b: IPAMBlockSpec, handle: string): number[] {
  const out: number[] = [];
  b.allocations.forEach((idx, ordinal) => {
    if (idx !== null && b.attributes[idx]?.handle_id === handle) out.push(ordinal);
  });
  return out;
}

/** Takes up to `n` free ordinals for `handle`; returns fewer when the block runs out. */
export function assignInBlock(
  b: IPAMBlockSpec,
  n: number,
  handle: string,
  secondary: Readonly<Record<string, string>>,
): { block: IPAMBlockSpec; ordinals: number[] } {
  const take = Math.min(n, b.unallocated.length);
  if (take === 0 || b.deleted) return { block: b, ordinals: [] };
  const ordinals = b.unallocated.slice(0, take);
  const attrIndex = b.attributes.length;
  const allocations = [...b.allocations];
  for (const o of ordinals) allocations[o] = attrIndex;
  return {
    block: {
      ...b,
      allocations,
      unallocated: b.unallocated.slice(take),
      attributes: [...b.attributes, { handle_id: handle, secondary: { ...secondary } }],
    },
    ordinals,
  };
}

/** Frees `ordinals` (ignoring ones already free) and drops attributes nothing refers to. */
export function releaseInBlock(b: IPAMBlockSpec, ordinals: readonly number[]): IPAMBlockSpec {
  const allocations = [...b.allocations];
  const freed: number[] = [];
  for (const o of ordinals) {
    if (allocations[o] !== null && allocations[o] !== undefined) {
      allocations[o] = null;
      freed.push(o);
    }
  }
  if (freed.length === 0) return b;
  // Compact attributes: keep those still referenced, renumber references.
  const remap = new Map<number, number>();
  const attributes: AllocationAttribute[] = [];
  for (let i = 0; i < allocations.length; i++) {
    const idx = allocations[i];
    if (idx === null || idx === undefined) continue;
    let next = remap.get(idx);
    if (next === undefined) {
      next = attributes.length;
      remap.set(idx, next);
      const attr = b.attributes[idx];
      attributes.push(attr ?? { handle_id: null, secondary: null });
    }
    allocations[i] = next;
  }
  // Freed addresses go to the back of the queue so a just-released address is reused last
  // (a late packet for a dead pod should not reach its successor).
  return { ...b, allocations, unallocated: [...b.unallocated, ...freed], attributes };
}

/** Every allocated ordinal with its attribute. */
export function allocatedEntries(b: IPAMBlockSpec): { ordinal: number; attr: AllocationAttribute }[] {
  const out: { ordinal: number; attr: AllocationAttribute }[] = [];
  b.allocations.forEach((idx, ordinal) => {
    if (idx !== null) out.push({ ordinal, attr: b.attributes[idx] ?? { handle_id: null, secondary: null } });
  });
  return out;
}
