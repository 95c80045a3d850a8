// tortiectl: `ipam show` from the Kubernetes API, `bgp peers|routes` from the status socket.
// Exit status: 0 done, 1 the operation failed (API or socket), 2 bad arguments.
import { KubeConfig } from '@kubernetes/client-node';
import { outputOf, type Parsed, parseFlags, stringFlag, UsageError } from './args.js';
import { bgpPeers, bgpRoutes, formatPeers, formatRoutes, type RoutesQuery } from './bgp.js';
import { formatIpamShow, ipamShow } from './ipam.js';

export const USAGE = `usage:
  tortiectl ipam show [--show-blocks] [--ip ADDR] [-o table|json] [--kubeconfig PATH]
  tortiectl bgp peers [--socket PATH] [-o table|json]
  tortiectl bgp routes [--socket PATH] [--family ipv4-unicast|ipv6-unicast] [--prefix CIDR] [--limit N] [-o table|json]

  --kubeconfig PATH   API access (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)
  --socket PATH       the tortie-bgpd status socket (default /run/tortie/bgpd.sock)`;

export const DEFAULT_SOCKET = '/run/tortie/bgpd.sock';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

const OUTPUT = { output: { value: true, short: 'o' } } as const;

function noPositionals(p: Parsed, command: string): void {
  const extra = p.positionals[0];
  if (extra !== undefined) throw new UsageError(`${extra}: unexpected argument to "${command}"`);
}

function kubeconfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (path !== undefined) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (e) {
    throw new UsageError(
      `--kubeconfig: cannot load ${path ?? 'the default kubeconfig'}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (!kc.getCurrentCluster()) throw new UsageError('--kubeconfig: no cluster configured (give --kubeconfig PATH)');
  return kc;
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

async function run(argv: readonly string[], io: Io): Promise<void> {
  const [group, command, ...rest] = argv;
  if (group === undefined || group === 'help' || group === '--help' || group === '-h') {
    io.stdout(`${USAGE}\n`);
    return;
  }
  if (group === 'ipam') {
    if (command !== 'show') throw new UsageError(`${command ?? '(nothing)'}: unknown ipam command (expected "show")`);
    const p = parseFlags(rest, {
      ...OUTPUT,
      'show-blocks': { value: false },
      ip: { value: true },
      kubeconfig: { value: true },
    });
    noPositionals(p, 'ipam show');
    const output = outputOf(p);
    const ip = stringFlag(p, 'ip');
    const kc = kubeconfig(stringFlag(p, 'kubeconfig'));
    const report = await ipamShow(kc, { showBlocks: p.flags.has('show-blocks'), ...(ip !== undefined ? { ip } : {}) });
    io.stdout(output === 'json' ? json(report) : formatIpamShow(report));
    return;
  }
  if (group === 'bgp') {
    if (command === 'peers') {
      const p = parseFlags(rest, { ...OUTPUT, socket: { value: true } });
      noPositionals(p, 'bgp peers');
      const output = outputOf(p);
      const peers = await bgpPeers(stringFlag(p, 'socket') ?? DEFAULT_SOCKET);
      io.stdout(output === 'json' ? json(peers) : formatPeers(peers));
      return;
    }
    if (command === 'routes') {
      const p = parseFlags(rest, {
        ...OUTPUT,
        socket: { value: true },
        family: { value: true },
        prefix: { value: true },
        limit: { value: true },
      });
      noPositionals(p, 'bgp routes');
      const output = outputOf(p);
      const family = stringFlag(p, 'family');
      if (family !== undefined && family !== 'ipv4-unicast' && family !== 'ipv6-unicast') {
        throw new UsageError(`--family: "${family}" is not one of ipv4-unicast, ipv6-unicast`);
      }
      const prefix = stringFlag(p, 'prefix');
      if (prefix !== undefined && !/^[0-9a-fA-F.:]+\/\d{1,3}$/.test(prefix)) {
        throw new UsageError(`--prefix: "${prefix}" is not a prefix (e.g. 10.244.0.0/26)`);
      }
      const limitText = stringFlag(p, 'limit');
      const limit = limitText === undefined ? undefined : Number(limitText);
      if (limit !== undefined && (!/^\d+$/.test(limitText ?? '') || limit < 1)) {
        throw new UsageError(`--limit: "${limitText}" is not a positive integer`);
      }
      const q: RoutesQuery = {
        ...(family !== undefined ? { family } : {}),
        ...(prefix !== undefined ? { prefix } : {}),
        ...(limit !== undefined ? { limit } : {}),
      };
      const routes = await bgpRoutes(stringFlag(p, 'socket') ?? DEFAULT_SOCKET, q);
      io.stdout(output === 'json' ? json(routes) : formatRoutes(routes));
      return;
    }
    throw new UsageError(`${command ?? '(nothing)'}: unknown bgp command (expected "peers" or "routes")`);
  }
  throw new UsageError(`${group}: unknown command (expected "ipam" or "bgp")`);
}

/** Runs one command; resolves with the exit status. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  try {
    await run(argv, io);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`tortiectl: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    io.stderr(`tortiectl: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
