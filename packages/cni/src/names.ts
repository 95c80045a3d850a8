import { createHash } from 'node:crypto';
import { HOST_VETH_PREFIX } from './constants.js';

/**
 * The host end's name: stable for a pod (so a restarted sandbox of the same pod reuses it and
 * leftovers are found), 13 characters, derived from `namespace.pod` like Calico's `cali` names.
 * Without Kubernetes arguments the container ID stands in.
 */
export function hostVethName(
  podNamespace: string | undefined,
  podName: string | undefined,
  containerId: string,
): string {
  const key = podNamespace && podName ? `${podNamespace}.${podName}` : containerId;
  return HOST_VETH_PREFIX + createHash('sha1').update(key).digest('hex').slice(0, 11);
}

/** A locally administered unicast MAC for the pod end, stable per container. */
export function podMac(containerId: string, ifname: string): string {
  const h = createHash('sha1').update(`${containerId}/${ifname}`).digest();
  const b = [0x0a, h[0] ?? 0, h[1] ?? 0, h[2] ?? 0, h[3] ?? 0, h[4] ?? 0];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** The IPAM handle of one attachment: network name + container ID. */
export function ipamHandle(network: string, containerId: string): string {
  return `${network}.${containerId}`;
}
