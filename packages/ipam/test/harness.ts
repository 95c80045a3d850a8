// Shared setup for the integration tests: an embedded API server per test, our CRDs applied
// through apiextensions.k8s.io/v1 with client-node, and helpers for Nodes and Pods.
import { ApiextensionsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type RunningApiServer, startApiServer } from '@tortie/apiserver';
import { loadCrds } from '../src/index.js';

export interface Env extends AsyncDisposable {
  readonly server: RunningApiServer;
  /** A fresh KubeConfig (each simulated node gets its own client). */
  kubeconfig(): KubeConfig;
  readonly core: CoreV1Api;
  addNode(name: string, labels?: Record<string, string>): Promise<void>;
  deleteNode(name: string): Promise<void>;
  addPod(namespace: string, name: string, node: string): Promise<void>;
  deletePod(namespace: string, name: string): Promise<void>;
}

export async function startEnv(): Promise<Env> {
  const server = await startApiServer();
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
    async [Symbol.asyncDispose]() {
      await server.stop();
    },
  };
}
