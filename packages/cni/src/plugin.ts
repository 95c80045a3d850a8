import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import {
  DEFAULT_SOCKET,
  DIRECT_MODULE,
  GATEWAY_V4,
  GATEWAY_V6,
  HOST_VETH_MAC,
  HOST_VETH_PATTERN,
} from './constants.js';
import {
  assertNetns,
  checkPod,
  deleteHostEndIfRoutes,
  deleteLink,
  detectMtu,
  finishPod,
  netnsExists,
  type PodAddresses,
  podRoutes,
  preparePod,
  teardownPod,
} from './dataplane.js';
import { ipamError, type PodIpam, SocketIpam, SocketUnavailableError } from './ipam-client.js';
import { hostVethName, ipamHandle, podMac } from './names.js';
import {
  type CniEnv,
  CniError,
  CniErrorCode,
  type CniResult,
  type CniVersion,
  checkVersion,
  formatResult,
  type NetConf,
  parseEnv,
  parseNetConf,
  SUPPORTED_VERSIONS,
} from './protocol.js';

export interface PluginOutput {
  readonly stdout: string;
  readonly exitCode: number;
}

export interface PluginDeps {
  /** How to reach IPAM; the default is the node socket, then the API through the kubeconfig. */
  readonly ipam?: (conf: NetConf) => PodIpam;
  /** Told how long a successful ADD's phases took (ms since the ADD started). */
  readonly onAddTimings?: (t: AddTimings) => void;
}

/** When each phase of an ADD ended, in ms since the ADD started (the two first ones overlap). */
export interface AddTimings {
  /** The veth created and its host end configured. */
  readonly veth: number;
  /** The addresses allocated. */
  readonly ipam: number;
  /** Everything done (addresses, routes, both sides). */
  readonly done: number;
}

const LATEST: CniVersion = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1] ?? '1.1.0';

/** One plugin invocation: environment and stdin in, stdout and exit code out. */
export async function runPlugin(
  env: Readonly<Record<string, string | undefined>>,
  stdin: string,
  deps: PluginDeps = {},
): Promise<PluginOutput> {
  let version: string = LATEST;
  try {
    if (env.CNI_COMMAND === 'VERSION') return version_(stdin);
    // the config first, so that an error can name the version the runtime asked for
    const conf = parseNetConf(stdin);
    version = conf.cniVersion;
    const e = parseEnv(env);
    const ipam = (deps.ipam ?? defaultIpam)(conf);
    switch (e.command) {
      case 'ADD':
        return { stdout: `${JSON.stringify(await add(e, conf, ipam, deps.onAddTimings))}\n`, exitCode: 0 };
      case 'DEL':
        await del(e, conf, ipam);
        return { stdout: '', exitCode: 0 };
      case 'CHECK':
        await check(e, conf, ipam);
        return { stdout: '', exitCode: 0 };
      case 'STATUS':
        await status(conf, ipam);
        return { stdout: '', exitCode: 0 };
      case 'GC':
        await gc(conf, ipam);
        return { stdout: '', exitCode: 0 };
      default:
        return version_(stdin);
    }
  } catch (err) {
    const ce =
      err instanceof CniError
        ? err
        : new CniError(
            CniErrorCode.ioFailure,
            `unexpected failure: ${err instanceof Error ? err.message : String(err)}`,
          );
    return { stdout: `${JSON.stringify(ce.toJSON(version))}\n`, exitCode: 1 };
  }
}

function version_(stdin: string): PluginOutput {
  let v: string = LATEST;
  if (stdin.trim() !== '') {
    try {
      const c = JSON.parse(stdin) as { cniVersion?: unknown };
      if (typeof c.cniVersion === 'string') v = checkVersion(c.cniVersion);
    } catch (e) {
      if (e instanceof CniError) throw e;
      // VERSION may come with no usable config at all
    }
  }
  return { stdout: `${JSON.stringify({ cniVersion: v, supportedVersions: SUPPORTED_VERSIONS })}\n`, exitCode: 0 };
}

/**
 * The node socket when it answers; the API directly (kubeconfig) when there is no socket or it
 * is down and a kubeconfig is configured. The API client is only loaded on that path.
 */
function defaultIpam(conf: NetConf): PodIpam {
  const socket = new SocketIpam(conf.socket ?? DEFAULT_SOCKET);
  let direct: Promise<PodIpam> | undefined;
  const viaApi = (): Promise<PodIpam> => {
    if (conf.kubeconfig === undefined) throw new Error('unreachable');
    direct ??= Promise.resolve().then(() => loadDirect().directIpam(conf.kubeconfig ?? ''));
    return direct;
  };
  const route = async <T>(f: (i: PodIpam) => Promise<T>): Promise<T> => {
    if (conf.kubeconfig !== undefined && conf.socket === undefined) return f(await viaApi());
    try {
      return await f(socket);
    } catch (e) {
      if (e instanceof SocketUnavailableError && conf.kubeconfig !== undefined) return f(await viaApi());
      throw e;
    }
  };
  return {
    allocate: (r) => route((i) => i.allocate(r)),
    releaseByHandle: (h) => route((i) => i.releaseByHandle(h)),
    handles: (f) => route((i) => i.handles(f)),
  };
}

/**
 * The direct-API path lives in a second bundle next to the plugin (`tortie-direct.cjs`), so the
 * plugin itself stays small: parsing the API client costs ~30 ms even when it is never used.
 */
function loadDirect(): typeof import('./direct.js') {
  const self = realpathSync(process.argv[1] ?? '.');
  const req = createRequire(self);
  return req(join(dirname(self), DIRECT_MODULE)) as typeof import('./direct.js');
}

async function nodeName(conf: NetConf): Promise<string> {
  if (conf.nodename !== undefined) return conf.nodename;
  if (conf.nodenameFile !== undefined) {
    const n = (await readFile(conf.nodenameFile, 'utf8').catch(() => '')).trim();
    if (n !== '') return n;
  }
  return hostname();
}

function podOf(e: CniEnv): { namespace: string | undefined; name: string | undefined } {
  return { namespace: e.args.K8S_POD_NAMESPACE, name: e.args.K8S_POD_NAME };
}

async function add(e: CniEnv, conf: NetConf, ipam: PodIpam, onTimings?: (t: AddTimings) => void): Promise<CniResult> {
  const t0 = performance.now();
  let vethAt = 0;
  let ipamAt = 0;
  const pod = podOf(e);
  const hostIf = hostVethName(pod.namespace, pod.name, e.containerId);
  const handle = ipamHandle(conf.name, e.containerId);
  // independent work overlaps: the namespace check, the MTU, the node name
  const [, mtu, node] = await Promise.all([
    assertNetns(e.netns),
    conf.mtu ?? detectMtu(conf.tunnelOverhead),
    nodeName(conf),
  ]);
  const attributes: Record<string, string> = {
    node,
    containerID: e.containerId,
    ifname: e.ifname,
    network: conf.name,
  };
  if (pod.namespace !== undefined) attributes.namespace = pod.namespace;
  if (pod.name !== undefined) attributes.pod = pod.name;
  const mac = podMac(e.containerId, e.ifname);
  const link = { hostIf, podIf: e.ifname, podMac: mac, netns: e.netns, mtu };
  // leave nothing behind: the runtime will retry ADD after DEL, but may not DEL after a failed ADD
  const unplumb = async (): Promise<void> => {
    await teardownPod(e.netns, e.ifname).catch(() => undefined);
    await deleteLink(hostIf).catch(() => undefined);
  };
  // The veth needs no address: it is created while IPAM allocates (the two overlap), and only
  // the addresses and routes wait for the allocation.
  const [prepared, allocated] = await Promise.allSettled([
    preparePod(link, conf.ipv6).finally(() => {
      vethAt = performance.now() - t0;
    }),
    ipam
      .allocate({
        handle,
        node,
        ipv4: conf.ipv4 ? 1 : 0,
        ipv6: conf.ipv6 ? 1 : 0,
        attributes,
      })
      .finally(() => {
        ipamAt = performance.now() - t0;
      }),
  ]);
  if (allocated.status === 'rejected') {
    if (
      prepared.status === 'fulfilled' ||
      !(prepared.reason instanceof CniError && prepared.reason.code === CniErrorCode.unknownContainer)
    )
      await unplumb();
    throw ipamError(allocated.reason, `allocating an address for ${pod.namespace ?? '?'}/${pod.name ?? e.containerId}`);
  }
  const allocation = allocated.value;
  if (prepared.status === 'rejected') {
    await unplumb();
    await ipam.releaseByHandle(handle).catch(() => 0);
    throw prepared.reason;
  }
  const v4 = allocation.addresses.find((a) => a.family === 4)?.address;
  const v6 = allocation.addresses.find((a) => a.family === 6)?.address;
  if ((conf.ipv4 && v4 === undefined) || (conf.ipv6 && v6 === undefined)) {
    await unplumb();
    await ipam.releaseByHandle(handle).catch(() => 0);
    throw new CniError(
      CniErrorCode.noFreeAddress,
      `IPAM returned ${allocation.addresses.map((a) => a.address).join(', ') || 'nothing'} for ${handle}, but the network asks for ${[conf.ipv4 && 'IPv4', conf.ipv6 && 'IPv6'].filter(Boolean).join(' and ')}`,
    );
  }
  const addrs: PodAddresses = { ...(v4 === undefined ? {} : { v4 }), ...(v6 === undefined ? {} : { v6 }) };
  try {
    await finishPod(prepared.value, addrs);
    onTimings?.({ veth: vethAt, ipam: ipamAt, done: performance.now() - t0 });
  } catch (err) {
    await unplumb();
    await ipam.releaseByHandle(handle).catch(() => 0);
    throw err;
  }
  const ips = [];
  const routes = [];
  if (v4 !== undefined) {
    ips.push({ address: `${v4}/32`, gateway: GATEWAY_V4, interface: 1 });
    routes.push({ dst: '0.0.0.0/0', gw: GATEWAY_V4 });
  }
  if (v6 !== undefined) {
    ips.push({ address: `${v6}/128`, gateway: GATEWAY_V6, interface: 1 });
    routes.push({ dst: '::/0', gw: GATEWAY_V6 });
  }
  return formatResult(conf.cniVersion, {
    interfaces: [
      { name: hostIf, mac: HOST_VETH_MAC, mtu },
      { name: e.ifname, mac, mtu, sandbox: e.netns },
    ],
    ips,
    routes,
    dns: {},
  });
}

function prevAddresses(prev: CniResult | undefined): PodAddresses {
  const out: { v4?: string; v6?: string } = {};
  for (const ip of prev?.ips ?? []) {
    const a = ip.address.split('/')[0] ?? '';
    if (a.includes(':')) out.v6 ??= a;
    else if (a !== '') out.v4 ??= a;
  }
  return out;
}

async function del(e: CniEnv, conf: NetConf, ipam: PodIpam): Promise<void> {
  const pod = podOf(e);
  if (e.netns !== '' && (await netnsExists(e.netns))) {
    await teardownPod(e.netns, e.ifname);
  } else {
    // Without the namespace the pod end is gone with it; a host end that still routes this
    // container's addresses (known from prevResult) is ours to remove. Nothing else is touched.
    const prev = prevAddresses(conf.prevResult);
    const hostIf =
      conf.prevResult?.interfaces?.find((i) => i.sandbox === undefined || i.sandbox === '')?.name ??
      hostVethName(pod.namespace, pod.name, e.containerId);
    const addrs = [prev.v4, prev.v6].filter((a): a is string => a !== undefined);
    if (addrs.length > 0) await deleteHostEndIfRoutes(hostIf, addrs);
  }
  try {
    await ipam.releaseByHandle(ipamHandle(conf.name, e.containerId));
  } catch (err) {
    throw ipamError(err, `releasing the address of ${ipamHandle(conf.name, e.containerId)}`);
  }
}

async function check(e: CniEnv, conf: NetConf, ipam: PodIpam): Promise<void> {
  if (conf.prevResult === undefined)
    throw new CniError(
      CniErrorCode.invalidConfig,
      'CHECK needs prevResult (the result of the ADD) in the configuration',
    );
  await assertNetns(e.netns);
  const pod = podOf(e);
  const hostIf =
    conf.prevResult.interfaces?.find((i) => !i.sandbox)?.name ?? hostVethName(pod.namespace, pod.name, e.containerId);
  const addrs = prevAddresses(conf.prevResult);
  const [problems, node] = await Promise.all([
    checkPod({ hostIf, podIf: e.ifname, netns: e.netns }, addrs),
    nodeName(conf),
  ]);
  const handle = ipamHandle(conf.name, e.containerId);
  let held: readonly string[] = [];
  try {
    held = (await ipam.handles({ node })).find((h) => h.handle === handle)?.addresses ?? [];
  } catch (err) {
    throw ipamError(err, 'reading IPAM handles for CHECK');
  }
  for (const a of [addrs.v4, addrs.v6])
    if (a !== undefined && !held.some((h) => h.split('/')[0] === a))
      problems.push(`IPAM handle ${handle} does not hold ${a}`);
  if (problems.length > 0)
    throw new CniError(
      CniErrorCode.checkFailed,
      `pod networking of ${e.containerId} is not as ADD left it: ${problems.join('; ')} (delete and re-create the pod sandbox)`,
    );
}

async function status(conf: NetConf, ipam: PodIpam): Promise<void> {
  try {
    await ipam.handles({ node: await nodeName(conf) });
  } catch (err) {
    throw new CniError(
      CniErrorCode.notAvailable,
      `the tortie plugin cannot reach IPAM, so it cannot add pods: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

async function gc(conf: NetConf, ipam: PodIpam): Promise<void> {
  if (conf.validAttachments === undefined)
    throw new CniError(CniErrorCode.invalidConfig, 'GC needs cni.dev/valid-attachments in the configuration');
  const valid = new Set(conf.validAttachments.map((a) => a.containerID));
  const prefix = `${conf.name}.`;
  let handles: readonly { handle: string; addresses: readonly string[] }[];
  try {
    handles = (await ipam.handles({ node: await nodeName(conf) })).filter((h) => h.handle.startsWith(prefix));
  } catch (err) {
    throw ipamError(err, 'listing IPAM handles for GC');
  }
  const keep = new Set<string>();
  const stale: string[] = [];
  for (const h of handles) {
    if (valid.has(h.handle.slice(prefix.length))) for (const a of h.addresses) keep.add(a.split('/')[0] ?? a);
    else stale.push(h.handle);
  }
  // links first: an address must not be handed out again while a stale route still points at it
  const routes = await podRoutes();
  const doomed = new Set(routes.filter((r) => HOST_VETH_PATTERN.test(r.dev) && !keep.has(r.address)).map((r) => r.dev));
  const stillRouted = new Set(routes.filter((r) => keep.has(r.address)).map((r) => r.dev));
  for (const dev of doomed) if (!stillRouted.has(dev)) await deleteLink(dev);
  for (const h of stale) {
    try {
      await ipam.releaseByHandle(h);
    } catch (err) {
      throw ipamError(err, `releasing stale handle ${h}`);
    }
  }
}
