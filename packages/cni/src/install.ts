import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULT_SOCKET, DIRECT_MODULE, NODE_PLUGIN, POD_HELPER } from './constants.js';

export interface InstallOptions {
  readonly binDir?: string;
  readonly confDir?: string;
  /** The plugin front end to copy (`dist/bundle/tortie`); `tortie-node`, `tortie-direct.cjs` and (if there) `tortie-podnet` are taken from the same directory. */
  readonly pluginSource: string;
  /** Written next to the conflist (mode 0600) for the plugin's direct-API fallback. */
  readonly kubeconfigContent?: string;
  readonly conflistName?: string;
  readonly networkName?: string;
  readonly mtu?: number;
  readonly tunnelOverhead?: number;
  readonly socket?: string;
  readonly nodename?: string;
  readonly ipv6?: boolean;
  /** Chain the reference portmap plugin for hostPort (default true). */
  readonly portmap?: boolean;
}

export interface InstallResult {
  readonly plugin: string;
  readonly conflist: string;
  readonly kubeconfig: string | undefined;
  /** Files whose content changed (unchanged files are not rewritten). */
  readonly changed: readonly string[];
}

/** The conflist the installer writes: tortie first, portmap chained after it. */
export function conflist(opts: Omit<InstallOptions, 'pluginSource' | 'binDir'> & { kubeconfigPath?: string }): object {
  const tortie: Record<string, unknown> = {
    type: 'tortie',
    agent_socket: opts.socket ?? DEFAULT_SOCKET,
    ipam: { assign_ipv4: true, assign_ipv6: opts.ipv6 === true },
  };
  if (opts.kubeconfigPath !== undefined) tortie.kubernetes = { kubeconfig: opts.kubeconfigPath };
  if (opts.mtu !== undefined) tortie.mtu = opts.mtu;
  if (opts.tunnelOverhead !== undefined) tortie.tunnel_overhead = opts.tunnelOverhead;
  if (opts.nodename !== undefined) tortie.nodename = opts.nodename;
  const plugins: object[] = [tortie];
  if (opts.portmap !== false) plugins.push({ type: 'portmap', snat: true, capabilities: { portMappings: true } });
  // portmap in Debian 12 speaks up to 1.0.0; runtimes that know 1.1.0 pick it from cniVersions
  return { cniVersion: '1.0.0', cniVersions: ['1.0.0', '1.1.0'], name: opts.networkName ?? 'k8s-pod-network', plugins };
}

/**
 * Puts the plugin, its kubeconfig and the conflist on the node. Each file is written to a
 * temporary name in the same directory and renamed into place, so a runtime never sees half a
 * file and a plugin process already running keeps its old inode. The conflist comes last: the
 * runtime treats the network as ready once it appears, and by then the plugin is in place.
 */
export async function install(opts: InstallOptions): Promise<InstallResult> {
  const binDir = opts.binDir ?? '/opt/cni/bin';
  const confDir = opts.confDir ?? '/etc/cni/net.d';
  await mkdir(binDir, { recursive: true });
  await mkdir(confDir, { recursive: true });
  const changed: string[] = [];
  const plugin = join(binDir, 'tortie');
  // what the front end may exec comes first: the direct-API module, then the Node plugin that
  // loads it, then the front end the runtime runs
  const direct = join(binDir, DIRECT_MODULE);
  const directSource = join(dirname(opts.pluginSource), DIRECT_MODULE);
  if (await writeAtomic(direct, await readFile(directSource), 0o644)) changed.push(direct);
  // the pod-side helper tortie-node uses when it finds it beside itself (else sh + nsenter ip)
  const podnetSource = join(dirname(opts.pluginSource), POD_HELPER);
  const podnetContent = await readFile(podnetSource).catch(() => undefined);
  if (podnetContent !== undefined) {
    const podnet = join(binDir, POD_HELPER);
    if (await writeAtomic(podnet, podnetContent, 0o755)) changed.push(podnet);
  }
  const nodePlugin = join(binDir, NODE_PLUGIN);
  const nodeSource = join(dirname(opts.pluginSource), NODE_PLUGIN);
  if (await writeAtomic(nodePlugin, await readFile(nodeSource), 0o755)) changed.push(nodePlugin);
  if (await writeAtomic(plugin, await readFile(opts.pluginSource), 0o755)) changed.push(plugin);
  let kubeconfigPath: string | undefined;
  if (opts.kubeconfigContent !== undefined) {
    kubeconfigPath = join(confDir, 'tortie-kubeconfig');
    if (await writeAtomic(kubeconfigPath, Buffer.from(opts.kubeconfigContent), 0o600)) changed.push(kubeconfigPath);
  }
  const list = join(confDir, opts.conflistName ?? '10-tortie.conflist');
  const body = `${JSON.stringify(conflist({ ...opts, ...(kubeconfigPath === undefined ? {} : { kubeconfigPath }) }), null, 2)}\n`;
  if (await writeAtomic(list, Buffer.from(body), 0o644)) changed.push(list);
  return { plugin, conflist: list, kubeconfig: kubeconfigPath, changed };
}

async function writeAtomic(path: string, content: Buffer, mode: number): Promise<boolean> {
  const old = await readFile(path).catch(() => undefined);
  if (old?.equals(content)) {
    await chmod(path, mode);
    return false;
  }
  // a dot name without the .conf/.conflist/.json suffix: runtimes ignore it while it is written
  const tmp = join(path, '..', `.${path.split('/').pop() ?? 'tortie'}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, content, { mode, flush: true });
    await chmod(tmp, mode);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return true;
}

/** A kubeconfig from the pod's service account, for the plugin on the host (Calico's install does the same). */
export async function inClusterKubeconfig(
  saDir = '/var/run/secrets/kubernetes.io/serviceaccount',
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (host === undefined)
    throw new Error('no --kubeconfig given and KUBERNETES_SERVICE_HOST is unset: run inside the cluster or pass one');
  const [token, ca] = await Promise.all([readFile(join(saDir, 'token'), 'utf8'), readFile(join(saDir, 'ca.crt'))]);
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server, 'certificate-authority-data': ca.toString('base64') } }],
    users: [{ name: 'tortie-cni', user: { token: token.trim() } }],
    contexts: [{ name: 'tortie-cni', context: { cluster: 'local', user: 'tortie-cni' } }],
    'current-context': 'tortie-cni',
  });
}
