import { KubeConfig } from '@kubernetes/client-node';
import { kubernetesIpam } from '@tortie/ipam';
import type { PodIpam } from './ipam-client.js';

/** IPAM straight through the Kubernetes API (loaded only when the plugin has no node socket). */
export function directIpam(kubeconfigPath: string): PodIpam {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kubernetesIpam(kc);
}
