import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { kubernetesIpam } from '@tortie/ipam';
import { DEFAULT_SOCKET } from './constants.js';
import { IpamServer } from './daemon.js';
import { KeepAliveKubeConfig } from './kubeconfig.js';

/**
 * `tortie-cni daemon`: serves the front end and the Node plugin on the node socket until SIGTERM.
 * With `TORTIE_CNI_CPU_PROFILE=PATH` it records a CPU profile (`.cpuprofile`, for Chrome DevTools
 * or speedscope) and writes it there on SIGTERM (Node refuses `--cpu-prof` in NODE_OPTIONS).
 */
export async function runDaemon(opts: { socketPath?: string; kubeconfig?: string }): Promise<void> {
  const profilePath = process.env.TORTIE_CNI_CPU_PROFILE;
  const profiler = profilePath ? await startProfile() : undefined;
  const kc = new KeepAliveKubeConfig();
  if (opts.kubeconfig !== undefined) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  const server = await IpamServer.start({ socketPath: opts.socketPath ?? DEFAULT_SOCKET, ipam: kubernetesIpam(kc) });
  process.stdout.write(`tortie-cni daemon listening on ${server.socketPath}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  if (profiler !== undefined && profilePath) {
    const { profile } = await profiler.post('Profiler.stop');
    await writeFile(profilePath, JSON.stringify(profile));
    profiler.disconnect();
  }
  await server.close();
  kc.closeConnections();
}

async function startProfile(): Promise<Session> {
  const s = new Session();
  s.connect();
  await s.post('Profiler.enable');
  await s.post('Profiler.setSamplingInterval', { interval: 200 });
  await s.post('Profiler.start');
  return s;
}
