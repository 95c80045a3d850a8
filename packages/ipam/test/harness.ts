// Shared setup for the integration tests: an embedded API server per test, our CRDs applied
// through apiextensions.k8s.io/v1 with client-node, and helpers for Nodes and Pods.

import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type RunningApiServer, startApiServer } from '@tortie/apiserver';
import { tryRun } from '@tortie/testkit';
import { type AllocationRequest, applyCrds } from '../src/index.js';

export interface Env extends AsyncDisposable {
  readonly server: RunningApiServer;
  /** A fresh KubeConfig (each simulated node gets its own client). */
  kubeconfig(): KubeConfig;
  readonly core: CoreV1Api;
  addNode(name: string, labels?: Record<string, string>): Promise<void>;
  deleteNode(name: string): Promise<void>;
  addPod(namespace: string, name: string, node: string): Promise<void>;
  deletePod(namespace: string, name: string): Promise<void>;
  /** Runs kubectl against the server (start with `tls: true`: kubectl sends no token over HTTP). */
  kubectl(args: readonly string[], stdin?: string): Promise<string>;
}

export async function startEnv(opts: { tls?: boolean } = {}): Promise<Env> {
  const server = await startApiServer(opts.tls ? { tls: true } : {});
  const kubeconfig = (): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    return kc;
  };
  const kc = kubeconfig();
  await applyCrds(kc);
  const core = kc.makeApiClient(CoreV1Api);
  return {
    server,
    kubeconfig,
    core,
    async addNode(name, labels = {}) {
      await core.createNode({ body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } } });
    },
    async deleteNode(name) {
      await core.deleteNode({ name });
    },
    async addPod(namespace, name, node) {
      await core.createNamespacedPod({
        namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace },
          spec: { nodeName: node, containers: [{ name: 'c', image: 'pause' }] },
        },
      });
    },
    async deletePod(namespace, name) {
      await core.deleteNamespacedPod({ namespace, name });
    },
    async kubectl(args, stdin) {
      const r = await tryRun('kubectl', ['--kubeconfig', server.kubeconfigPath, ...args], { input: stdin ?? '' });
      if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.exitCode}): ${r.stderr}`);
      return r.stdout;
    },
    async [Symbol.asyncDispose]() {
      await server.stop();
    },
  };
}

/** One IPv4 address (by default) for the pod named like its handle, on `node`. */
export const req = (handle: string, node: string, ipv4 = 1, ipv6 = 0): AllocationRequest => ({
  handle,
  node,
  ipv4,
  ipv6,
  attributes: { namespace: 'default', pod: handle, node },
});

/** Polls `f` every 50 ms until it gives a value (not `undefined` or `false`), for at most `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
