import { readFile, statfs, writeFile } from 'node:fs/promises';
import { GATEWAY_V4, GATEWAY_V6, HOST_VETH_MAC, HOST_VETH_PATTERN, POD_ROUTE_PROTOCOL } from './constants.js';
import { ip } from './exec.js';
import { CniError, CniErrorCode } from './protocol.js';

const NSFS_MAGIC = 0x6e736673;

export interface PodAddresses {
  /** Bare address, no prefix length. */
  readonly v4?: string;
  readonly v6?: string;
}

export interface PodLink {
  readonly hostIf: string;
  readonly podIf: string;
  readonly podMac: string;
  readonly netns: string;
  readonly mtu: number;
}

/** Fails with CNI error 3 unless `path` is a network namespace. */
export async function assertNetns(path: string): Promise<void> {
  let type: number;
  try {
    type = (await statfs(path)).type;
  } catch (e) {
    throw new CniError(
      CniErrorCode.unknownContainer,
      `network namespace ${path} does not exist (${(e as NodeJS.ErrnoException).code ?? String(e)}): the container is gone or CNI_NETNS is wrong`,
    );
  }
  if (type !== NSFS_MAGIC)
    throw new CniError(
      CniErrorCode.unknownContainer,
      `CNI_NETNS ${path} is not a network namespace (expected an nsfs file such as /run/netns/NAME or /proc/PID/ns/net)`,
    );
}

export async function netnsExists(path: string): Promise<boolean> {
  try {
    return (await statfs(path)).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

/** Whether a link of this name exists in this process's network namespace (no process spawned). */
export async function linkExists(name: string): Promise<boolean> {
  try {
    await readFile(`/proc/sys/net/ipv4/conf/${name}/forwarding`);
    return true;
  } catch {
    return false;
  }
}

async function sysctl(path: string, value: string): Promise<void> {
  try {
    await writeFile(`/proc/sys/${path}`, value);
  } catch (e) {
    throw new CniError(
      CniErrorCode.plumbingFailed,
      `could not set sysctl ${path.replaceAll('/', '.')}=${value}: ${(e as Error).message} (the plugin must run as root with CAP_NET_ADMIN in the host network namespace)`,
    );
  }
}

async function batch(lines: readonly string[], what: string, netns?: string): Promise<void> {
  const r = await ip(['-batch', '-'], { input: `${lines.join('\n')}\n`, ...(netns === undefined ? {} : { netns }) });
  if (r.code !== 0)
    throw new CniError(
      CniErrorCode.plumbingFailed,
      `${what} failed: ${r.stderr.trim() || `ip exited ${r.code}`}`,
      lines.join('\n'),
    );
}

/**
 * Creates the veth pair and everything around it:
 * host end (fixed MAC, proxy ARP, proxy NDP, forwarding, /32 and /128 routes with
 * {@link POD_ROUTE_PROTOCOL}), pod end (its /32 and /128, pinned gateway neighbours, default
 * routes via the link-local gateways, onlink). IPv4 only: two `ip -batch` processes, one after
 * the other; with IPv6: three.
 */
export async function setupPod(link: PodLink, addrs: PodAddresses): Promise<void> {
  const { hostIf, podIf, netns, mtu } = link;
  // A stale host end with this pod's name (a sandbox of the same pod that was never DELeted)
  // would block the new one; it belongs to the same pod, so it goes.
  const stale = await linkExists(hostIf);
  const create = [
    ...(stale ? [`link del ${hostIf}`] : []),
    `link add ${hostIf} mtu ${mtu} address ${HOST_VETH_MAC} type veth peer name ${podIf} mtu ${mtu} address ${link.podMac} netns ${netns}`,
  ];
  const sysctls: [string, string][] = [
    [`net/ipv4/conf/${hostIf}/proxy_arp`, '1'],
    [`net/ipv4/neigh/${hostIf}/proxy_delay`, '0'],
    [`net/ipv4/conf/${hostIf}/forwarding`, '1'],
  ];
  const host = [`link set ${hostIf} up`];
  const pod = ['link set lo up', `link set ${podIf} up`];
  if (addrs.v4 !== undefined) {
    host.push(`route replace ${addrs.v4}/32 dev ${hostIf} proto ${POD_ROUTE_PROTOCOL} scope link`);
    pod.push(
      `addr add ${addrs.v4}/32 dev ${podIf}`,
      `neigh replace ${GATEWAY_V4} lladdr ${HOST_VETH_MAC} dev ${podIf} nud permanent`,
      `route replace default via ${GATEWAY_V4} dev ${podIf} onlink`,
    );
  }
  const what = `creating and configuring veth ${hostIf} <-> ${podIf} in ${netns}`;
  if (addrs.v6 === undefined) {
    // IPv4 only: one host process creates, raises and routes the host end; its sysctls and the
    // pod side follow in parallel. Nothing reaches the pod before its address exists, and the
    // pod's gateway neighbour is pinned, so proxy ARP and forwarding only have to be on before
    // ADD returns. (Every process the daemon spawns costs its event loop ~2 ms of fork.)
    await batch([...create, ...host], what);
    await Promise.all([
      ...sysctls.map(([k, v]) => sysctl(k, v)),
      batch(pod, `configuring ${podIf} in ${netns}`, netns),
    ]);
    return;
  }
  // IPv6: the host end's link-local (the pods' gateway) must skip DAD, so its sysctls come
  // before the link is up: create, sysctls, then host and pod side in parallel.
  await batch(create, `creating veth ${hostIf} <-> ${podIf} in ${netns}`);
  sysctls.push(
    [`net/ipv6/conf/${hostIf}/accept_dad`, '0'],
    [`net/ipv6/conf/${hostIf}/proxy_ndp`, '1'],
    [`net/ipv6/conf/${hostIf}/forwarding`, '1'],
  );
  await Promise.all(sysctls.map(([k, v]) => sysctl(k, v)));
  await ensureIpv6Forwarding();
  host.push(`route replace ${addrs.v6}/128 dev ${hostIf} proto ${POD_ROUTE_PROTOCOL}`);
  pod.push(
    `addr add ${addrs.v6}/128 dev ${podIf} nodad`,
    `neigh replace ${GATEWAY_V6} lladdr ${HOST_VETH_MAC} dev ${podIf} nud permanent`,
    `route replace default via ${GATEWAY_V6} dev ${podIf}`,
  );
  await Promise.all([
    batch(host, `configuring host end ${hostIf}`),
    batch(pod, `configuring ${podIf} in ${netns}`, netns),
  ]);
}

/** IPv6 forwards only with the global switch on; Calico's agent sets it too. Left alone when already on. */
async function ensureIpv6Forwarding(): Promise<void> {
  const cur = await readFile('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8').catch(() => '');
  if (cur.trim() !== '1') await sysctl('net/ipv6/conf/all/forwarding', '1');
}

/**
 * Removes the pod's interface (and with it the host end and the host routes). Succeeds when the
 * namespace or the interface is already gone.
 */
export async function teardownPod(netns: string, podIf: string): Promise<void> {
  if (netns === '' || !(await netnsExists(netns))) return;
  const r = await ip(['link', 'del', podIf], { netns });
  if (r.code !== 0 && !/Cannot find device|does not exist/.test(r.stderr))
    throw new CniError(CniErrorCode.plumbingFailed, `deleting ${podIf} in ${netns} failed: ${r.stderr.trim()}`);
}

/** Deletes a host end by name, but only when one of `addresses` is routed through it (so never another pod's). */
export async function deleteHostEndIfRoutes(hostIf: string, addresses: readonly string[]): Promise<void> {
  if (!HOST_VETH_PATTERN.test(hostIf) || !(await linkExists(hostIf))) return;
  const routes = await podRoutes();
  if (!routes.some((r) => r.dev === hostIf && addresses.includes(r.address))) return;
  const r = await ip(['link', 'del', hostIf]);
  if (r.code !== 0 && !/Cannot find device/.test(r.stderr))
    throw new CniError(CniErrorCode.plumbingFailed, `deleting host end ${hostIf} failed: ${r.stderr.trim()}`);
}

export interface PodRoute {
  readonly address: string;
  readonly dev: string;
}

/** The host routes to local pods (`proto 85`), IPv4 and IPv6. */
export async function podRoutes(): Promise<PodRoute[]> {
  const out: PodRoute[] = [];
  for (const fam of ['-4', '-6']) {
    const r = await ip(['-j', fam, 'route', 'show', 'proto', String(POD_ROUTE_PROTOCOL)]);
    if (r.code !== 0) throw new CniError(CniErrorCode.plumbingFailed, `listing pod routes failed: ${r.stderr.trim()}`);
    for (const e of JSON.parse(r.stdout || '[]') as { dst?: string; dev?: string }[]) {
      if (e.dst && e.dev) out.push({ address: e.dst.replace(/\/(32|128)$/, ''), dev: e.dev });
    }
  }
  return out;
}

export async function deleteLink(name: string): Promise<void> {
  const r = await ip(['link', 'del', name]);
  if (r.code !== 0 && !/Cannot find device/.test(r.stderr))
    throw new CniError(CniErrorCode.plumbingFailed, `deleting ${name} failed: ${r.stderr.trim()}`);
}

/**
 * The pod MTU when the config does not give one: the MTU of the interface holding the host's
 * default route, minus the tunnel overhead; 1500 when there is no default route.
 */
export async function detectMtu(tunnelOverhead: number): Promise<number> {
  let dev: string | undefined;
  try {
    const table = await readFile('/proc/self/net/route', 'utf8');
    for (const line of table.split('\n').slice(1)) {
      const f = line.split('\t');
      if (f[1] === '00000000' && f[7] === '00000000') {
        dev = f[0];
        break;
      }
    }
  } catch {
    // no IPv4 routing table visible
  }
  let mtu = 1500;
  if (dev !== undefined) {
    const r = await ip(['-j', 'link', 'show', 'dev', dev]);
    if (r.code === 0) {
      const m = (JSON.parse(r.stdout) as { mtu?: number }[])[0]?.mtu;
      if (typeof m === 'number') mtu = m;
    }
  }
  return mtu - tunnelOverhead;
}

export interface CheckProblem {
  readonly what: string;
}

/** Compares the live state against what ADD made; returns the list of what is wrong. */
export async function checkPod(link: Omit<PodLink, 'podMac' | 'mtu'>, addrs: PodAddresses): Promise<string[]> {
  const problems: string[] = [];
  const { hostIf, podIf, netns } = link;
  const [podAddr, podRoute4, podRoute6, hostLink, routes] = await Promise.all([
    ip(['-j', 'addr', 'show', 'dev', podIf], { netns }),
    ip(['-j', '-4', 'route', 'show', 'default'], { netns }),
    ip(['-j', '-6', 'route', 'show', 'default'], { netns }),
    ip(['-j', 'link', 'show', 'dev', hostIf]),
    podRoutes(),
  ]);
  if (podAddr.code !== 0) {
    problems.push(`interface ${podIf} is missing in ${netns}`);
  } else {
    const info = (
      JSON.parse(podAddr.stdout) as { operstate?: string; flags?: string[]; addr_info?: { local: string }[] }[]
    )[0];
    const have = new Set((info?.addr_info ?? []).map((a) => a.local));
    if (!info?.flags?.includes('UP')) problems.push(`interface ${podIf} in ${netns} is down`);
    for (const a of [addrs.v4, addrs.v6])
      if (a !== undefined && !have.has(a)) problems.push(`${podIf} lacks address ${a}`);
    const gw4 = (JSON.parse(podRoute4.stdout || '[]') as { gateway?: string }[]).some((r) => r.gateway === GATEWAY_V4);
    if (addrs.v4 !== undefined && !gw4) problems.push(`the pod has no IPv4 default route via ${GATEWAY_V4}`);
    const gw6 = (JSON.parse(podRoute6.stdout || '[]') as { gateway?: string }[]).some((r) => r.gateway === GATEWAY_V6);
    if (addrs.v6 !== undefined && !gw6) problems.push(`the pod has no IPv6 default route via ${GATEWAY_V6}`);
  }
  if (hostLink.code !== 0) {
    problems.push(`host end ${hostIf} is missing`);
  } else {
    const info = (JSON.parse(hostLink.stdout) as { flags?: string[] }[])[0];
    if (!info?.flags?.includes('UP')) problems.push(`host end ${hostIf} is down`);
    const proxy = await readFile(`/proc/sys/net/ipv4/conf/${hostIf}/proxy_arp`, 'utf8').catch(() => '');
    if (proxy.trim() !== '1') problems.push(`proxy ARP is off on ${hostIf}`);
  }
  for (const a of [addrs.v4, addrs.v6]) {
    if (a !== undefined && !routes.some((r) => r.address === a && r.dev === hostIf))
      problems.push(`the host has no route proto ${POD_ROUTE_PROTOCOL} to ${a} via ${hostIf}`);
  }
  return problems;
}
