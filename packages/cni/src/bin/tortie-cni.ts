// The node-side companion of the plugin: `tortie-cni install` (DaemonSet init step) and
// `tortie-cni daemon` (the node-local IPAM socket the plugin talks to).
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = `usage:
  tortie-cni daemon  --kubeconfig PATH [--socket /var/run/tortie/cni.sock] [--node NAME]
  tortie-cni install [--bin-dir /opt/cni/bin] [--conf-dir /etc/cni/net.d] [--plugin PATH]
                     [--kubeconfig PATH | (in-cluster service account)] [--conflist-name 10-tortie.conflist]
                     [--mtu N] [--socket PATH] [--node NAME]`;

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      socket: { type: 'string' },
      kubeconfig: { type: 'string' },
      node: { type: 'string' },
      'bin-dir': { type: 'string' },
      'conf-dir': { type: 'string' },
      plugin: { type: 'string' },
      'conflist-name': { type: 'string' },
      mtu: { type: 'string' },
      ipv6: { type: 'boolean' },
    },
  });
  if (cmd === 'daemon') {
    const { runDaemon } = await import('../daemon-main.js');
    await runDaemon({
      ...(values.socket === undefined ? {} : { socketPath: values.socket }),
      ...(values.kubeconfig === undefined ? {} : { kubeconfig: values.kubeconfig }),
    });
    return;
  }
  if (cmd === 'install') {
    const { install, inClusterKubeconfig } = await import('../install.js');
    const kubeconfig = values.kubeconfig ?? (await inClusterKubeconfig());
    const r = await install({
      ...(values['bin-dir'] === undefined ? {} : { binDir: values['bin-dir'] }),
      ...(values['conf-dir'] === undefined ? {} : { confDir: values['conf-dir'] }),
      pluginSource: values.plugin ?? join(dirname(process.argv[1] ?? '.'), 'tortie'),
      kubeconfigContent: kubeconfig,
      ...(values['conflist-name'] === undefined ? {} : { conflistName: values['conflist-name'] }),
      ...(values.mtu === undefined ? {} : { mtu: Number(values.mtu) }),
      ...(values.socket === undefined ? {} : { socket: values.socket }),
      ...(values.node === undefined ? {} : { nodename: values.node }),
      ...(values.ipv6 ? { ipv6: true } : {}),
    });
    process.stdout.write(`installed ${r.plugin} and ${r.conflist}\n`);
    return;
  }
  process.stderr.write(`${USAGE}\n`);
  process.exitCode = 2;
}

main().catch((e: unknown) => {
  process.stderr.write(`tortie-cni: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
