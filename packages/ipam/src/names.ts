// Deterministic object names. A block's and an affinity's names derive from the CIDR alone, so
// two nodes racing for the same block collide on the same name and the API's AlreadyExists picks
// exactly one winner: duplicate affinities cannot exist by construction.
import { createHash } from 'node:crypto';
import { familyBits, parseCidr } from './cidr.js';

export function cidrObjectName(cidrText: string): string {
  const c = parseCidr(cidrText);
  if (c.family === 4) {
    return `${[24n, 16n, 8n, 0n].map((s) => ((c.base >> s) & 0xffn).toString()).join('-')}-${c.prefix}`;
  }
  // IPv6 fully expanded (no "::") so the name never starts or ends with '-'.
  const parts: string[] = [];
  for (let i = familyBits(6) / 16 - 1; i >= 0; i--) parts.push(((c.base >> BigInt(i * 16)) & 0xffffn).toString(16));
  return `${parts.join('-')}-${c.prefix}`;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Handle IDs (e.g. `k8s-pod-network.<containerId>`) are used as names when they are valid
 * DNS subdomains; anything else maps to a stable hash so that lookups stay O(1). */
export function handleObjectName(handle: string): string {
  if (handle.length <= 253 && DNS_SUBDOMAIN.test(handle)) return handle;
  return `h-${createHash('sha256').update(handle).digest('hex').slice(0, 40)}`;
}

export const affinityValue = (node: string): string => `host:${node}`;

export function affinityNode(affinity: string | null): string | undefined {
  return affinity?.startsWith('host:') ? affinity.slice('host:'.length) : undefined;
}
