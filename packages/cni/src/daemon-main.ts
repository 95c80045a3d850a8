import { KubeConfig } from '@kubernetes/client-node';
import { kubernetesIpam } from '@tortie/ipam';
import { DEFAULT_SOCKET } from './constants.js';
import { IpamServer } from './daemon.js';

/** `tortie-cni daemon`: serves IPAM to the plugin on the node socket until SIGTERM. */
export async function runDaemon(opts: { socketPath?: string; kubeconfig?: string }): Promise<void> {
  const kc = new KubeConfig();
  if (opts.kubeconfig !== undefined) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  const server = await IpamServer.start({ socketPath: opts.socketPath ?? DEFAULT_SOCKET, ipam: kubernetesIpam(kc) });
  process.stdout.write(`tortie-cni daemon listening on ${server.socketPath}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.close();
}
