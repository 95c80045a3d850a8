// Wiring of the controller to the Kubernetes API: a Node informer as the event source, restarted
// with back-off whenever its watch fails (dropped connection, 410 Gone), and direct reads for
// everything the reconcilers decide on.
import {
  CoreV1Api,
  CustomObjectsApi,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
  type V1Node,
} from '@kubernetes/client-node';
import { IpamController, type IpamControllerOptions, type NodeEventSource } from './controller.js';
import { IPAM_PLURALS, KubernetesCluster } from './k8s-store.js';
import { type KubernetesIpamOptions, kubernetesIpam } from './kubernetes.js';
import { TORTIE_API_GROUP, TORTIE_API_VERSION } from './types.js';

/** Keys (object names) from an informer, restarted with back-off whenever its watch fails. */
class InformerSource<T extends KubernetesObject> implements NodeEventSource {
  readonly #make: () => Informer<T>;
  #informer: Informer<T> | undefined;
  #stopped = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  /** Watch failures seen (each followed by a restart). */
  restarts = 0;

  constructor(make: () => Informer<T>) {
    this.#make = make;
  }

  async start(onKey: (name: string) => void): Promise<void> {
    const informer = this.#make();
    this.#informer = informer;
    const key = (n: T): void => {
      this.#failures = 0;
      if (n.metadata?.name) onKey(n.metadata.name);
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

export class NodeInformerSource extends InformerSource<V1Node> {
  constructor(kc: KubeConfig) {
    super(() => {
      const api = kc.makeApiClient(CoreV1Api);
      return makeInformer<V1Node>(kc, '/api/v1/nodes', () => api.listNode());
    });
  }
}

/** IPPool names, from an informer on the ippools of our API group. */
export class PoolInformerSource extends InformerSource<KubernetesObject> {
  constructor(kc: KubeConfig) {
    super(() => {
      const api = kc.makeApiClient(CustomObjectsApi);
      const params = { group: TORTIE_API_GROUP, version: TORTIE_API_VERSION, plural: IPAM_PLURALS.IPPool };
      return makeInformer<KubernetesObject>(
        kc,
        `/apis/${TORTIE_API_GROUP}/${TORTIE_API_VERSION}/${IPAM_PLURALS.IPPool}`,
        async () => (await api.listClusterCustomObject(params)) as KubernetesListObject<KubernetesObject>,
      );
    });
  }
}

export interface KubernetesIpamControllerOptions extends Omit<IpamControllerOptions, 'events'>, KubernetesIpamOptions {}

/** The controller over the Kubernetes API, driven by Node and IPPool informers. */
export function kubernetesIpamController(kc: KubeConfig, opts: KubernetesIpamControllerOptions = {}): IpamController {
  return new IpamController(kubernetesIpam(kc, opts), new KubernetesCluster(kc), {
    ...opts,
    events: new NodeInformerSource(kc),
    poolEvents: new PoolInformerSource(kc),
  });
}
