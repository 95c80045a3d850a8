// Wiring of the controller to the Kubernetes API: a Node informer as the event source, restarted
// with back-off whenever its watch fails (dropped connection, 410 Gone), and direct reads for
// everything the reconcilers decide on.
import { CoreV1Api, type KubeConfig, makeInformer, type V1Node } from '@kubernetes/client-node';
import { IpamController, type IpamControllerOptions, type NodeEventSource } from './controller.js';
import { KubernetesCluster } from './k8s-store.js';
import { type KubernetesIpamOptions, kubernetesIpam } from './kubernetes.js';

export class NodeInformerSource implements NodeEventSource {
  readonly #kc: KubeConfig;
  #informer: ReturnType<typeof makeInformer<V1Node>> | undefined;
  #stopped = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  /** Watch failures seen (each followed by a restart). */
  restarts = 0;

  constructor(kc: KubeConfig) {
    this.#kc = kc;
  }

  async start(onNode: (name: string) => void): Promise<void> {
    const api = this.#kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1Node>(this.#kc, '/api/v1/nodes', () => api.listNode());
    this.#informer = informer;
    const key = (n: V1Node): void => {
      this.#failures = 0;
      if (n.metadata?.name) onNode(n.metadata.name);
    };
    informer.on('add', key);
    informer.on('update', key);
    informer.on('delete', key);
    informer.on('error', () => {
      if (this.#stopped) return;
      this.restarts++;
      // The informer stops on error; start it again (it re-lists, so nothing is missed) after a
      // jittered back-off that grows with consecutive failures.
      const delay = Math.min(10_000, 100 * 2 ** this.#failures++) * (0.5 + Math.random() / 2);
      this.#restartTimer = setTimeout(() => {
        if (!this.#stopped) void informer.start().catch(() => {});
      }, delay);
    });
    this.#stopped = false;
    await informer.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    await this.#informer?.stop();
  }
}

export interface KubernetesIpamControllerOptions extends Omit<IpamControllerOptions, 'events'>, KubernetesIpamOptions {}

/** The controller over the Kubernetes API, driven by a Node informer. */
export function kubernetesIpamController(kc: KubeConfig, opts: KubernetesIpamControllerOptions = {}): IpamController {
  return new IpamController(kubernetesIpam(kc, opts), new KubernetesCluster(kc), {
    ...opts,
    events: new NodeInformerSource(kc),
  });
}
