import { readFile, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { type RunningApiServer, startApiServer } from '@tortie/apiserver';
import { applyCrds, kubernetesIpam, TORTIE_API_GROUP, TORTIE_API_VERSION } from '@tortie/ipam';
import { ManagedProcess, type Netns } from '@tortie/testkit';
import { PKG } from './helpers.js';

/** The embedded apiserver with Tortie's CRDs and one IPv4 pool. */
export async function startCluster(
  pool: { cidr: string; blockSize: number } = { cidr: '10.244.0.0/16', blockSize: 26 },
): Promise<{ api: RunningApiServer; kc: KubeConfig } & AsyncDisposable> {
  const api = await startApiServer();
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  await applyCrds(kc);
  await createPool(kc, 'pool-a', pool);
  return { api, kc, [Symbol.asyncDispose]: () => api.stop() };
}

export async function createPool(
  kc: KubeConfig,
  name: string,
  spec: { cidr: string; blockSize: number },
): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).createClusterCustomObject({
    group: TORTIE_API_GROUP,
    version: TORTIE_API_VERSION,
    plural: 'ippools',
    body: {
      apiVersion: `${TORTIE_API_GROUP}/${TORTIE_API_VERSION}`,
      kind: 'IPPool',
      metadata: { name },
      spec: { ...spec, ipipMode: 'Never', vxlanMode: 'Never', nodeSelector: 'all()' },
    },
  });
}

export async function handlesOn(kc: KubeConfig, node: string): Promise<readonly { handle: string }[]> {
  return kubernetesIpam(kc).handles({ node });
}

/**
 * The shipped node daemon (`tortie-cni daemon`): inside `ns` (as in production, where it shares
 * the host's network namespace with the runtime; give it a kubeconfig from {@link apiInto}), or
 * in the test's own namespace.
 */
export async function startDaemon(kubeconfig: string, socket: string, ns?: Netns): Promise<ManagedProcess> {
  const bin = join(PKG, 'dist/bundle/tortie-cni');
  const args = ['daemon', '--kubeconfig', kubeconfig, '--socket', socket];
  const p = ns === undefined ? ManagedProcess.start(bin, args) : ns.spawn(bin, args);
  await p.waitForOutput(/listening on/);
  return p;
}

/**
 * Makes the apiserver (on 127.0.0.1 of the test's namespace) reachable as 127.0.0.1:port inside
 * `node`, without touching the host's network: a unix socket in the test process, and a relay
 * process inside the node namespace. Returns a kubeconfig that points there.
 */
export async function apiInto(
  node: Netns,
  api: RunningApiServer,
  dir: string,
  port = 16443,
): Promise<{ kubeconfig: string; close(): Promise<void> }> {
  const target = new URL(api.url);
  const unix = join(dir, `api-${port}.sock`);
  const server: Server = createServer((c) => {
    const up = createConnection(Number(target.port), target.hostname);
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => server.listen(unix, r));
  const relay = node.spawn('node', [
    '-e',
    `const net=require('net');net.createServer(c=>{const u=net.createConnection(${JSON.stringify(unix)});c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy())}).listen(${port},'127.0.0.1',()=>console.log('relay up'))`,
  ]);
  await relay.waitForOutput(/relay up/);
  const kubeconfig = join(dir, `node-${port}.kubeconfig`);
  const text = await readFile(api.kubeconfigPath, 'utf8');
  await writeFile(kubeconfig, text.replace(api.url, `http://127.0.0.1:${port}`), { mode: 0o600 });
  return {
    kubeconfig,
    close: async () => {
      await relay.stop();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
