import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Lab, type Netns, run, tryRun } from '@tortie/testkit';
import {
  type Allocation,
  type AllocationRequest,
  type DaemonStats,
  type HandleInfo,
  type PodIpam,
  SocketIpam,
} from '../src/index.js';

export const PKG = new URL('..', import.meta.url).pathname;
/** The native front end, installed as /opt/cni/bin/tortie. */
export const PLUGIN = join(PKG, 'dist/bundle/tortie');
/** The Node plugin it falls back to (and the plugin of a node without the daemon). */
export const NODE_PLUGIN = join(PKG, 'dist/bundle/tortie-node');
export const CNI_BIN = '/usr/lib/cni';

/** Builds the bundles the tests run, exactly as shipped. */
export async function bundle(): Promise<void> {
  await run('node', [join(PKG, 'scripts/bundle.mjs')]);
}

export class NoFreeAddressError extends Error {
  override readonly name = 'NoFreeAddressError';
}

/** In-memory IPAM with one IPv4 block (and optionally one IPv6 block), idempotent per handle. */
export class FakeIpam implements PodIpam {
  readonly #v4: string[];
  readonly #v6: string[];
  readonly byHandle = new Map<string, { addresses: string[]; attributes: Record<string, string>; node: string }>();
  constructor(opts: { v4Prefix?: string; size?: number; v6Prefix?: string } = {}) {
    const size = opts.size ?? 64;
    const p4 = opts.v4Prefix ?? '10.244.7.';
    const p6 = opts.v6Prefix ?? 'fd00:10:244:7::';
    this.#v4 = Array.from({ length: size }, (_, i) => `${p4}${i}`);
    this.#v6 = Array.from({ length: size }, (_, i) => `${p6}${(i + 1).toString(16)}`);
  }
  async allocate(req: AllocationRequest): Promise<Allocation> {
    const have = this.byHandle.get(req.handle);
    const mk = (addresses: string[]): Allocation => ({
      handle: req.handle,
      addresses: addresses.map((a) => ({
        address: a,
        family: a.includes(':') ? 6 : 4,
        block: a.includes(':') ? 'fd00:10:244:7::/122' : '10.244.7.0/26',
        pool: 'default',
      })),
    });
    if (have) return mk(have.addresses);
    const used = new Set([...this.byHandle.values()].flatMap((h) => h.addresses));
    const out: string[] = [];
    for (const [n, list] of [
      [req.ipv4, this.#v4],
      [req.ipv6, this.#v6],
    ] as const) {
      for (let i = 0; i < n; i++) {
        const a = list.find((x) => !used.has(x) && !out.includes(x));
        if (a === undefined) throw new NoFreeAddressError(`no free address for node ${req.node}`);
        out.push(a);
      }
    }
    this.byHandle.set(req.handle, { addresses: out, attributes: { ...req.attributes }, node: req.node });
    return mk(out);
  }
  async releaseByHandle(handle: string): Promise<number> {
    const h = this.byHandle.get(handle);
    this.byHandle.delete(handle);
    return h?.addresses.length ?? 0;
  }
  async handles(filter?: { node?: string }): Promise<readonly HandleInfo[]> {
    return [...this.byHandle.entries()]
      .filter(([, h]) => filter?.node === undefined || h.node === filter.node)
      .map(([handle, h]) => ({ handle, addresses: h.addresses, attributes: h.attributes }));
  }
}

export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await mkdtemp(join(tmpdir(), 'tortie-cni-'));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

export interface Invocation {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly json: Record<string, unknown> | undefined;
  readonly ms: number;
}

/** Runs a CNI plugin binary as a runtime would: CNI_* in the environment, the config on stdin, inside `node`. */
export async function invoke(
  node: Netns,
  env: Readonly<Record<string, string>>,
  conf: unknown,
  plugin = PLUGIN,
): Promise<Invocation> {
  const t0 = performance.now();
  const r = await tryRun('ip', ['netns', 'exec', node.name, plugin], {
    env: { CNI_PATH: `${join(PKG, 'dist/bundle')}:${CNI_BIN}`, ...env },
    input: typeof conf === 'string' ? conf : JSON.stringify(conf),
    timeoutMs: 60_000,
  });
  const ms = performance.now() - t0;
  let json: Record<string, unknown> | undefined;
  try {
    json = r.stdout.trim() === '' ? undefined : (JSON.parse(r.stdout) as Record<string, unknown>);
  } catch {
    json = undefined;
  }
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, json, ms };
}

/** What a node daemon has served so far. */
export async function daemonStats(socket: string): Promise<DaemonStats> {
  return (await new SocketIpam(socket).call({ op: 'stats' })) as DaemonStats;
}

export function podEnv(command: string, id: string, netns: string, pod?: string): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: id,
    CNI_NETNS: netns,
    CNI_IFNAME: 'eth0',
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod ?? id}`,
  };
}

/** A node: a namespace with an uplink (10.0.0.1/24, MTU 1500) and a default route to an upstream namespace. */
export async function makeNode(lab: Lab, label = 'node'): Promise<Netns> {
  const node = await lab.namespace(label);
  const up = await lab.namespace(`${label}-up`);
  await lab.veth(node, 'uplink0', up, 'eth0', { aAddress: '10.0.0.1/24', bAddress: '10.0.0.254/24', mtu: 1500 });
  await node.ip(['route', 'add', 'default', 'via', '10.0.0.254', 'dev', 'uplink0']);
  // as on any Kubernetes node (kubeadm's preflight insists): traffic from the uplink to pods is forwarded
  await node.sysctl('net.ipv4.ip_forward', '1');
  return node;
}

export function netnsPath(ns: Netns): string {
  return `/run/netns/${ns.name}`;
}

/** From inside `from`, pings every address at once; returns those that did not answer. */
export async function unreachable(from: Netns, addresses: readonly string[]): Promise<string[]> {
  if (addresses.length === 0) return [];
  const script = `for a in ${addresses.join(' ')}; do ( ping -n -q -c 1 -W 2 "$a" >/dev/null 2>&1 || echo "FAIL $a" ) & done; wait`;
  const r = await from.tryExec('sh', ['-c', script], { timeoutMs: 30_000 });
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('FAIL '))
    .map((l) => l.slice(5));
}

export function addressesOf(result: Record<string, unknown> | undefined): string[] {
  const ips = (result?.ips ?? []) as { address: string }[];
  return ips.map((i) => i.address.split('/')[0] ?? '');
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

/** The host-side interface named in an ADD result. */
export function hostIfOf(result: Record<string, unknown> | undefined): string {
  const ifs = (result?.interfaces ?? []) as { name: string; sandbox?: string }[];
  return ifs.find((i) => !i.sandbox)?.name ?? '';
}
