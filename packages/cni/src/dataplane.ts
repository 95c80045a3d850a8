import { accessSync, constants, realpathSync } from 'node:fs';
import { type FileHandle, mkdtemp, open, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  GATEWAY_V4,
  GATEWAY_V6,
  HOST_VETH_MAC,
  HOST_VETH_PATTERN,
  POD_HELPER,
  POD_ROUTE_PROTOCOL,
} from './constants.js';
import { exec, ip } from './exec.js';
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

/**
 * The queue behind both batchers: jobs pushed while a batch runs go into the next batch, one batch
 * at a time. A batch that throws fails every job in it.
 */
class GroupCommit<J extends { readonly reject: (e: Error) => void }> {
  #queue: J[] = [];
  #running = false;
  readonly #runBatch: (jobs: readonly J[]) => Promise<void>;
  constructor(runBatch: (jobs: readonly J[]) => Promise<void>) {
    this.#runBatch = runBatch;
  }

  push(job: J): void {
    this.#queue.push(job);
    if (!this.#running) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const jobs = this.#queue;
        this.#queue = [];
        await this.#runBatch(jobs).catch((e: unknown) => {
          for (const j of jobs) j.reject(e instanceof Error ? e : new Error(String(e)));
        });
      }
    } finally {
      this.#running = false;
    }
  }
}

interface HostJob {
  readonly lines: readonly string[];
  /** An open network-namespace fd the lines name as `NETNS_FD` (held so it cannot vanish mid-batch). */
  readonly fd?: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** Stands for the job's namespace fd in a host line; replaced by `/proc/self/fd/N` of the `ip` process. */
const NETNS_FD = '@NETNS@';
const FAILED_LINE = /^Command failed -:(\d+)$/;

/**
 * Group commit for the host side of concurrent pods: `ip` lines of every pod that asked while a
 * batch was running go into the next one, a single `ip -batch - -force` process (20 pods of a
 * burst: 2–3 processes instead of 20). `-force` runs every line even after one failed and names
 * each failed line (`Command failed -:N`) after its error, so a failure fails only the pod whose
 * line it was, with that pod's lines as the CNI error's details. Namespaces are passed as fds
 * held open by the caller, so a namespace removed mid-burst cannot make `ip` exit on a bad
 * argument (which would leave the lines after it unrun and unreported).
 */
export class HostBatcher {
  readonly #jobs = new GroupCommit<HostJob>((jobs) => this.#runBatch(jobs));
  /** `ip` processes run and pods' line groups they carried, for tests and the daemon's stats. */
  readonly stats = { batches: 0, jobs: 0, largest: 0 };

  run(lines: readonly string[], what: string, fd?: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#jobs.push({
        lines,
        ...(fd === undefined ? {} : { fd }),
        resolve,
        reject: (e) =>
          reject(
            new CniError(
              CniErrorCode.plumbingFailed,
              `${what} failed: ${e.message}`,
              lines.join('\n').replaceAll(NETNS_FD, 'CNI_NETNS'),
            ),
          ),
      });
    });
  }

  async #runBatch(jobs: readonly HostJob[]): Promise<void> {
    this.stats.batches++;
    this.stats.jobs += jobs.length;
    this.stats.largest = Math.max(this.stats.largest, jobs.length);
    const fds: number[] = [];
    const owner: number[] = []; // 1-based line number -> job index
    const text: string[] = [];
    jobs.forEach((j, i) => {
      let path = '';
      if (j.fd !== undefined) {
        path = `/proc/self/fd/${3 + fds.length}`;
        fds.push(j.fd);
      }
      for (const l of j.lines) {
        text.push(l.replaceAll(NETNS_FD, path));
        owner.push(i);
      }
    });
    const r = await ip(['-batch', '-', '-force'], { input: `${text.join('\n')}\n`, fds });
    const failed = new Map<number, string[]>();
    let msg: string[] = [];
    let last = 0;
    for (const line of r.stderr.split('\n')) {
      const m = FAILED_LINE.exec(line.trim());
      if (m === null) {
        if (line.trim() !== '') msg.push(line.trim());
        continue;
      }
      last = Number(m[1]);
      const job = owner[last - 1];
      if (job !== undefined) failed.set(job, [...(failed.get(job) ?? []), ...msg]);
      msg = [];
    }
    // `ip` stopped without naming the line (it exits on an argument it cannot parse): the lines
    // after the last named one may not have run, so their pods fail (and clean up after themselves).
    const unreported = r.code !== 0 && (msg.length > 0 || failed.size === 0);
    jobs.forEach((j, i) => {
      const lastLine = owner.lastIndexOf(i) + 1;
      const errs = failed.get(i);
      if (errs !== undefined) j.reject(new Error(errs.join('; ') || `ip exited ${r.code}`));
      else if (unreported && lastLine > last)
        j.reject(new Error(msg.join('; ') || `ip -batch exited ${r.code} without naming the failed line`));
      else j.resolve();
    });
  }
}

/** One step of a pod's side, run in the pod's network namespace. */
export type PodOp =
  | { readonly op: 'up'; readonly dev: string }
  | { readonly op: 'del'; readonly dev: string }
  | {
      readonly op: 'addr';
      readonly dev: string;
      readonly address: string;
      readonly prefix: number;
      readonly nodad?: boolean;
    }
  | { readonly op: 'neigh'; readonly dev: string; readonly address: string; readonly mac: string }
  | { readonly op: 'default'; readonly dev: string; readonly gateway: string; readonly onlink?: boolean }
  | {
      readonly op: 'route';
      readonly dev: string;
      readonly dst: string;
      readonly prefix: number;
      readonly protocol: number;
      readonly scopeLink?: boolean;
    };

/** The daemon's own network namespace, as a {@link PodBatcher} target (host routes of pods). */
export const HOST_NETNS = '/proc/self/ns/net';

/** The step as an `ip -batch` line (the sh path, and the CNI error's details). */
export function ipLine(o: PodOp): string {
  switch (o.op) {
    case 'up':
      return `link set ${o.dev} up`;
    case 'del':
      return `link del ${o.dev}`;
    case 'addr':
      return `addr add ${o.address}/${o.prefix} dev ${o.dev}${o.nodad ? ' nodad' : ''}`;
    case 'neigh':
      return `neigh replace ${o.address} lladdr ${o.mac} dev ${o.dev} nud permanent`;
    case 'default':
      return `route replace default via ${o.gateway} dev ${o.dev}${o.onlink ? ' onlink' : ''}`;
    case 'route':
      return `route replace ${o.dst}/${o.prefix} dev ${o.dev} proto ${o.protocol}${o.scopeLink ? ' scope link' : ''}`;
  }
}

/** The step as a command of `tortie-podnet` (shim/tortie-podnet.c). */
function helperLine(o: PodOp): string {
  switch (o.op) {
    case 'up':
      return `L ${o.dev}`;
    case 'del':
      return `D ${o.dev}`;
    case 'addr':
      return `A ${o.dev} ${o.address} ${o.prefix}${o.nodad ? ' nodad' : ''}`;
    case 'neigh':
      return `N ${o.dev} ${o.address} ${o.mac}`;
    case 'default':
      return `R ${o.dev} ${o.gateway}${o.onlink ? ' onlink' : ''}`;
    case 'route':
      return `H ${o.dev} ${o.dst} ${o.prefix} ${o.protocol}${o.scopeLink ? ' link' : ''}`;
  }
}

interface PodJob {
  readonly ops: readonly PodOp[];
  readonly netns: string;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** `tortie-podnet` next to the running bundle (dist/bundle/, /opt/cni/bin), if it is there. */
function bundledHelper(): string | undefined {
  try {
    const path = join(dirname(realpathSync(process.argv[1] ?? '')), POD_HELPER);
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

/**
 * Group commit for the pod side: the steps of every pod that asked while a batch was running go
 * into the next batch, one process for all of them. With `helper` (`tortie-podnet`, built from
 * shim/tortie-podnet.c) that process enters each pod's namespace in turn and talks netlink
 * itself: no fork or exec per pod (each `nsenter` + `ip` pair costs a few ms of CPU, and 20 of
 * them were most of an ADD's last phase). Without it, one `sh` runs one `nsenter --net=… ip
 * -batch -` per pod, all at once. Either way the daemon forks once per batch (a fork of the
 * daemon blocks its event loop ~2 ms), namespaces are handed over as fds (no path reaches a
 * command line), and each pod gets its own result.
 */
export class PodBatcher {
  readonly #helper: string | undefined;
  readonly #jobs = new GroupCommit<PodJob>((jobs) => this.#runBatch(jobs));
  readonly stats = { batches: 0, jobs: 0, largest: 0 };

  /** `helper`: path of `tortie-podnet`; `null` forces the sh path; absent: the bundled one if any. */
  constructor(helper?: string | null) {
    this.#helper = helper === null ? undefined : (helper ?? bundledHelper());
  }

  get usesHelper(): boolean {
    return this.#helper !== undefined;
  }

  run(ops: readonly PodOp[], netns: string, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#jobs.push({
        ops,
        netns,
        resolve,
        reject: (e) =>
          reject(new CniError(CniErrorCode.plumbingFailed, `${what} failed: ${e.message}`, ops.map(ipLine).join('\n'))),
      });
    });
  }

  async #runBatch(all: readonly PodJob[]): Promise<void> {
    const handles: FileHandle[] = [];
    const jobs: PodJob[] = [];
    for (const j of all) {
      try {
        handles.push(await open(j.netns, 'r'));
        jobs.push(j);
      } catch (e) {
        j.reject(new Error(`cannot open ${j.netns}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`));
      }
    }
    if (jobs.length === 0) return;
    this.stats.batches++;
    this.stats.jobs += jobs.length;
    this.stats.largest = Math.max(this.stats.largest, jobs.length);
    try {
      if (this.#helper !== undefined) await this.#viaHelper(this.#helper, jobs, handles);
      else await this.#viaSh(jobs, handles);
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  }

  async #viaHelper(helper: string, jobs: readonly PodJob[], handles: readonly FileHandle[]): Promise<void> {
    const input = jobs.map((j, i) => `P ${3 + i}\n${j.ops.map(helperLine).join('\n')}\nE\n`).join('');
    const r = await exec(
      helper,
      [],
      input,
      handles.map((h) => h.fd),
    );
    const results = new Map<number, string>();
    for (const line of r.stdout.split('\n')) {
      const m = /^(\d+) (\d+)(?: (.*))?$/.exec(line);
      if (m !== null) results.set(Number(m[1]), m[2] === '0' ? '' : (m[3] ?? `error ${m[2]}`));
    }
    jobs.forEach((j, i) => {
      const res = results.get(i);
      if (res === '') j.resolve();
      else j.reject(new Error(res ?? `no result from ${POD_HELPER} (${r.stderr.trim() || `exit ${r.code}`})`));
    });
  }

  async #viaSh(jobs: readonly PodJob[], handles: readonly FileHandle[]): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'tortie-pod-'));
    try {
      const script = jobs
        .map(
          (j, i) =>
            `{ nsenter --net=/proc/self/fd/${3 + i} -- ip -batch - 2>"$1/${i}" <<'TORTIE_END'\n${j.ops.map(ipLine).join('\n')}\nTORTIE_END\necho "${i} $?"; } &\n`,
        )
        .join('');
      const r = await exec(
        'sh',
        ['-c', `${script}wait\n`, 'sh', dir],
        '',
        handles.map((h) => h.fd),
      );
      const status = new Map<number, number>();
      for (const line of r.stdout.split('\n')) {
        const m = /^(\d+) (\d+)$/.exec(line);
        if (m !== null) status.set(Number(m[1]), Number(m[2]));
      }
      await Promise.all(
        jobs.map(async (j, i) => {
          const code = status.get(i);
          if (code === 0) return j.resolve();
          const err = (await readFile(join(dir, String(i)), 'utf8').catch(() => '')).trim();
          j.reject(
            new Error(
              err ||
                (code === undefined
                  ? `no exit status (${r.stderr.trim() || `sh exited ${r.code}`})`
                  : `ip exited ${code}`),
            ),
          );
        }),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** The pod side of every pod plumbed by this process. */
export const podBatcher = new PodBatcher();

/**
 * DEL's pod side: `sh` with one `nsenter … ip` per pod, at once. Not the helper: it works through
 * its pods one after another, and deleting a veth waits in the kernel for the device to be
 * unregistered (an RCU grace period, ~20 ms here); concurrent deletes share that wait, serial ones
 * add it up (20 pods: ~440 ms instead of ~150 ms).
 */
export const podDeleteBatcher = new PodBatcher(null);

/** The host side of every pod plumbed by this process. */
export const hostBatcher = new HostBatcher();

/** The veth of a pod between {@link preparePod} (before its addresses are known) and {@link finishPod}. */
export interface PreparedPod {
  readonly link: PodLink;
  readonly ipv6: boolean;
}

/**
 * The part of ADD that needs no address, run while IPAM allocates: the veth pair (pod end moved
 * into the pod's namespace), the host end's sysctls, and for IPv4 only the host end up (with
 * IPv6 the host end's link-local, the pods' gateway, must skip DAD, so it comes up only after
 * `accept_dad=0`, in {@link finishPod}). The host lines join the burst's host batch.
 */
export async function preparePod(
  link: PodLink,
  ipv6: boolean,
  batcher: HostBatcher = hostBatcher,
): Promise<PreparedPod> {
  const { hostIf, podIf, netns, mtu } = link;
  // A stale host end with this pod's name (a sandbox of the same pod that was never DELeted)
  // would block the new one; it belongs to the same pod, so it goes.
  const stale = await linkExists(hostIf);
  let fh: FileHandle;
  try {
    fh = await open(netns, 'r');
  } catch (e) {
    throw new CniError(
      CniErrorCode.unknownContainer,
      `network namespace ${netns} cannot be opened (${(e as NodeJS.ErrnoException).code ?? String(e)}): the container is gone or CNI_NETNS is wrong`,
    );
  }
  try {
    await batcher.run(
      [
        ...(stale ? [`link del ${hostIf}`] : []),
        `link add ${hostIf} mtu ${mtu} address ${HOST_VETH_MAC} type veth peer name ${podIf} mtu ${mtu} address ${link.podMac} netns ${NETNS_FD}`,
        ...(ipv6 ? [] : [`link set ${hostIf} up`]),
      ],
      `creating veth ${hostIf} <-> ${podIf} in ${netns}`,
      fh.fd,
    );
  } finally {
    await fh.close();
  }
  const sysctls: [string, string][] = [
    [`net/ipv4/conf/${hostIf}/proxy_arp`, '1'],
    [`net/ipv4/neigh/${hostIf}/proxy_delay`, '0'],
    [`net/ipv4/conf/${hostIf}/forwarding`, '1'],
  ];
  if (ipv6)
    sysctls.push(
      [`net/ipv6/conf/${hostIf}/accept_dad`, '0'],
      [`net/ipv6/conf/${hostIf}/proxy_ndp`, '1'],
      [`net/ipv6/conf/${hostIf}/forwarding`, '1'],
    );
  await Promise.all(sysctls.map(([k, v]) => sysctl(k, v)));
  if (ipv6) await ensureIpv6Forwarding();
  return { link, ipv6 };
}

/**
 * The rest of ADD once the addresses are known, host and pod side at once, both in the burst's
 * pod batch: on the host the /32 (/128) routes with {@link POD_ROUTE_PROTOCOL} (and with IPv6
 * the host end up); in the pod lo and the pod end up, its addresses, the pinned gateway
 * neighbours and the default routes via the link-local gateways, onlink.
 */
export async function finishPod(p: PreparedPod, addrs: PodAddresses): Promise<void> {
  const { hostIf, podIf, netns } = p.link;
  // the host side goes through the pod batch too, with the daemon's own namespace as the target:
  // one process for both sides of every pod in the batch
  const host: PodOp[] = p.ipv6 ? [{ op: 'up', dev: hostIf }] : [];
  const pod: PodOp[] = [
    { op: 'up', dev: 'lo' },
    { op: 'up', dev: podIf },
  ];
  if (addrs.v4 !== undefined) {
    host.push({ op: 'route', dev: hostIf, dst: addrs.v4, prefix: 32, protocol: POD_ROUTE_PROTOCOL, scopeLink: true });
    pod.push(
      { op: 'addr', dev: podIf, address: addrs.v4, prefix: 32 },
      { op: 'neigh', dev: podIf, address: GATEWAY_V4, mac: HOST_VETH_MAC },
      { op: 'default', dev: podIf, gateway: GATEWAY_V4, onlink: true },
    );
  }
  if (addrs.v6 !== undefined) {
    host.push({ op: 'route', dev: hostIf, dst: addrs.v6, prefix: 128, protocol: POD_ROUTE_PROTOCOL });
    pod.push(
      { op: 'addr', dev: podIf, address: addrs.v6, prefix: 128, nodad: true },
      { op: 'neigh', dev: podIf, address: GATEWAY_V6, mac: HOST_VETH_MAC },
      { op: 'default', dev: podIf, gateway: GATEWAY_V6 },
    );
  }
  await Promise.all([
    host.length === 0 ? undefined : podBatcher.run(host, HOST_NETNS, `configuring host end ${hostIf}`),
    podBatcher.run(pod, netns, `configuring ${podIf} in ${netns}`),
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
  try {
    await podDeleteBatcher.run([{ op: 'del', dev: podIf }], netns, `deleting ${podIf} in ${netns}`);
  } catch (e) {
    if (e instanceof CniError && /Cannot find device|does not exist|No such device|cannot open/.test(e.message)) return;
    throw e;
  }
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
