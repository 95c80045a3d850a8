// Shared setup for the integration tests: an embedded API server per test, our CRDs applied
// through apiextensions.k8s.io/v1 with client-node, and helpers for Nodes and Pods.

import { spawn } from 'node:child_process';
import { ApiextensionsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type RunningApiServer, startApiServer } from '@tortie/apiserver';
import { loadCrds } from '../src/index.js';

function run(
  cmd: string,
  args: readonly string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    p.stdin.end(stdin ?? '');
  });
}

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
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of loadCrds()) {
    await ext.createCustomResourceDefinition({ body: crd as never });
  }
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
      const r = await run('kubectl', ['--kubeconfig', server.kubeconfigPath, ...args], stdin);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    async [Symbol.asyncDispose]() {
      await server.stop();
    },
  };
}
